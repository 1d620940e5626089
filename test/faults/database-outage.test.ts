import mongoose from 'mongoose';
import request from 'supertest';
import { Conversation, Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { createConversation, createUsers, type TestUser } from '../factories';
import {
  emitAck,
  nextEvent,
  record,
  settle,
  waitFor,
  type ClientSocket,
} from '../helpers/realtime';
import {
  sendOverRest,
  sendOverSocket,
  type SendInput,
  type SendOutcome,
} from '../helpers/send-outcomes';
import { logMessage, startServiceProcess, type ServiceProcess } from '../helpers/service-process';
import {
  commandMarker,
  proxiedDatabaseUri,
  startTcpProxy,
  testDatabaseTarget,
} from '../helpers/tcp-proxy';
import { useServiceBehindDatabaseProxy } from '../helpers/proxied-service';
import { tokenFor } from '../helpers/tokens';

/**
 * The database server goes away during traffic and comes back (a TCP proxy
 * between a real service process and the test database, see tcp-harness.proxy.ts).
 * Clients must get a quick, retryable refusal rather than a hang; the service must
 * recover by itself; and a client that retries with client_message_ids must end
 * up with every message stored exactly once.
 */

// A bound on hanging, not a latency target: the clients here give up after 10 s.
const HANG_BOUND_MS = 5000;
const RECOVERY_MS = 15000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('database outage: the database server goes away mid-traffic and comes back', () => {
  // Short-lived tokens expire at their `exp` (the re-authentication test).
  const harness = useServiceBehindDatabaseProxy({ JWT_CLOCK_TOLERANCE_SEC: '0' });
  let sender: TestUser, recipient: TestUser, conv: string;

  const untilReady = async () => {
    const deadline = Date.now() + RECOVERY_MS;
    while ((await request(harness.service.url).get('/ready')).status !== 200) {
      if (Date.now() > deadline) throw new Error('service did not become ready');
      await sleep(100);
    }
  };
  const joinedSocket = async (user: TestUser): Promise<ClientSocket> => {
    const socket = await harness.connect(user.token);
    expect(await emitAck(socket, 'join_conversation', conv)).toMatchObject({ success: true });
    return socket;
  };
  const send = (i: string): SendInput => ({
    conversation_id: conv,
    text: `message ${i}`,
    client_message_id: `client-${i}`,
  });

  beforeEach(async () => {
    await untilReady();
    [sender, recipient] = await createUsers(2);
    conv = await createConversation([sender, recipient]);
  });

  it('refuses sends quickly and retryably, turns /ready 503 and keeps /health 200 while the database is away', async () => {
    const socket = await joinedSocket(sender);

    harness.proxy.cut();
    const restAnswers: SendOutcome[] = [];
    for (const i of ['r1', 'r2', 'r3']) {
      restAnswers.push(await sendOverRest(harness.service.url, sender.token, send(i)));
    }
    const socketAnswers: SendOutcome[] = [];
    for (const i of ['s1', 's2']) socketAnswers.push(await sendOverSocket(socket, send(i)));
    const ready = await request(harness.service.url).get('/ready');
    const health = await request(harness.service.url).get('/health');
    // The test's own connection goes straight to the database, not through the harness.proxy.
    const storedDuringOutage = await Message.countDocuments({ conversation_id: conv });

    for (const answer of restAnswers) {
      expect(answer).toMatchObject({
        kind: 'refused',
        status: 503,
        body: { success: false, code: 'DATABASE_UNAVAILABLE', retryable: true },
      });
      expect(answer.kind === 'refused' && answer.retryAfter).toMatch(/^\d+$/);
      expect(answer.ms).toBeLessThan(HANG_BOUND_MS);
    }
    for (const answer of socketAnswers) {
      expect(answer).toMatchObject({
        kind: 'refused',
        body: { success: false, code: 'DATABASE_UNAVAILABLE', retryable: true },
      });
      expect(answer.ms).toBeLessThan(HANG_BOUND_MS);
    }
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ success: false, checks: { database: false } });
    expect(health.status).toBe(200);
    expect(storedDuringOutage).toBe(0);
    expect(socket.connected).toBe(true);
    expect(harness.service.running).toBe(true);
  });

  it('recovers by itself once the database is back: sends succeed again with no restart', async () => {
    const socket = await joinedSocket(sender);
    harness.proxy.cut();
    expect(await sendOverRest(harness.service.url, sender.token, send('refused'))).toMatchObject({
      kind: 'refused',
      status: 503,
    });

    harness.proxy.restore();
    const restoredAt = Date.now();
    let viaRest: SendOutcome;
    do {
      viaRest = await sendOverRest(harness.service.url, sender.token, send('after-rest'));
      if (viaRest.kind !== 'stored') await sleep(100);
    } while (viaRest.kind !== 'stored' && Date.now() - restoredAt < RECOVERY_MS);
    const viaSocket = await sendOverSocket(socket, send('after-socket'));
    const ready = await request(harness.service.url).get('/ready');

    expect(viaRest).toMatchObject({ kind: 'stored', status: 201, message: { seq: 1 } });
    expect(viaSocket).toMatchObject({ kind: 'stored', message: { seq: 2 } });
    expect(ready.status).toBe(200);
    const stored = await Message.find({ conversation_id: conv }).sort({ seq: 1 }).lean();
    expect(stored.map((m) => m.client_message_id)).toEqual([
      'client-after-rest',
      'client-after-socket',
    ]);
    expect(harness.service.running).toBe(true);
  });

  it('stores every acknowledged message exactly once, seqs gapless, when a retrying client sends 40 through three outages', async () => {
    const N = 40;
    const socket = await joinedSocket(sender);
    const acked = new Map<string, MessageView>();
    const failures: SendOutcome[] = [];

    // Cut right after an ack, so the next send is usually in flight when the database goes,
    // and keep it away until the client has felt it (a short cut is ridden out by the driver).
    let streaming = true;
    const until = (condition: () => boolean) => waitFor(() => !streaming || condition(), 45000);
    const chaos = (async () => {
      for (const afterAcks of [8, 20, 32]) {
        await until(() => acked.size >= afterAcks);
        harness.proxy.cut();
        const felt = failures.length + 2;
        await Promise.all([sleep(500), until(() => failures.length >= felt)]);
        harness.proxy.restore();
      }
    })();

    const deadline = Date.now() + 45000;
    // The client: each message retried until it is acknowledged.
    const sendAll = async (): Promise<void> => {
      for (let i = 1; i <= N; i++) {
        const input = send(String(i));
        // Retry until success, alternating REST and socket: the same id over either path.
        for (let attempt = 0; ; attempt++) {
          const outcome =
            (i + attempt) % 2 === 0
              ? await sendOverRest(harness.service.url, sender.token, input)
              : await sendOverSocket(socket, input);
          if (outcome.kind === 'stored') {
            acked.set(input.client_message_id!, outcome.message);
            break;
          }
          failures.push(outcome);
          if (outcome.kind === 'refused' && outcome.body.retryable !== true) {
            await sleep(300); // the service's log line may trail its answer
            const errors = harness.service.logs
              .filter((line) =>
                ['socket handler failed', 'unhandled error'].includes(logMessage(line)),
              )
              .map((line) => JSON.stringify(line.json?.err));
            throw new Error(
              `send ${i} refused for good: ${JSON.stringify(outcome.body)}\n${errors.join('\n')}`,
            );
          }
          if (Date.now() > deadline) throw new Error(`send ${i} never succeeded`);
          await sleep(100);
        }
      }
    };

    try {
      await sendAll();
    } finally {
      streaming = false;
      await chaos;
    }

    const stored = await Message.find({ conversation_id: conv }).sort({ seq: 1 }).lean();
    expect(acked.size).toBe(N);
    expect(stored).toHaveLength(N);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.dedupe_key)).size).toBe(N);
    for (const [clientId, message] of acked) {
      const doc = stored.find((m) => m.client_message_id === clientId);
      expect(doc?._id.toString()).toBe(message._id);
      expect(doc?.seq).toBe(message.seq);
      expect(doc?.dedupe_key).toBe(`${sender.id}:${clientId}`);
    }
    expect((await Conversation.findById(conv).lean())?.last_seq).toBe(N);
    // The outages were felt, and every failure was a quick, retryable refusal (no hang, no drop).
    expect(failures.length).toBeGreaterThanOrEqual(6);
    expect(failures.filter((f) => f.kind !== 'refused' || f.ms >= HANG_BOUND_MS)).toEqual([]);
    expect(harness.service.running).toBe(true);
  }, 60000);

  it('keeps a socket suspended when its re-authentication fails on the outage, so the retry restores it', async () => {
    const socket = await harness.connect(tokenFor(sender.id, { expiresIn: 2 }));
    expect(await emitAck(socket, 'join_conversation', conv)).toMatchObject({ success: true });
    await nextEvent(socket, 'token_expired', 4000);

    harness.proxy.cut();
    const failed = await emitAck(socket, 'authenticate', { token: sender.token });
    harness.proxy.restore();
    await untilReady();
    const messages = record(socket, 'new_message');
    const retried = await emitAck(socket, 'authenticate', { token: sender.token });
    const fromRecipient = await sendOverRest(
      harness.service.url,
      recipient.token,
      send('to-reauthed'),
    );
    await waitFor(() => messages.length === 1, 3000);
    const ownSend = await sendOverSocket(socket, send('from-reauthed'));
    await waitFor(() => messages.length === 2, 3000);

    expect(failed).toMatchObject({ success: false, code: 'DATABASE_UNAVAILABLE', retryable: true });
    expect(retried).toMatchObject({ success: true, data: { expires_at: expect.any(String) } });
    expect(fromRecipient).toMatchObject({ kind: 'stored', status: 201 });
    // Back in its room: the recipient's message, then its own (the room includes the sender).
    expect(messages.map((m) => ('text' in m ? m.text : m))).toEqual([
      'message to-reauthed',
      'message from-reauthed',
    ]);
    expect(ownSend).toMatchObject({ kind: 'stored', message: { seq: 2 } });
    expect(socket.connected).toBe(true);
  }, 30000);

  describe('the database stops answering without closing anything (stalled)', () => {
    /** The bound of a stalled send: monitor heartbeat + connect timeout + read-back, with margin. */
    const STALL_BOUND_MS = 16000;
    /** A held reply is noticed by the socket timeout (10 s) or the monitor (5-10 s): never sooner. */
    const HELD_REPLY_MIN_MS = 4500;

    it('answers a send whose reply was lost as stored once the message is read back', async () => {
      const socket = await joinedSocket(sender);
      const receiver = await joinedSocket(recipient);
      expect((await sendOverSocket(socket, send('warm'))).kind).toBe('stored');
      const received = record(receiver, 'new_message');

      // Only the connections open now hang: the insert reaches the database, its reply
      // never comes back, and the connections the driver opens afterwards work.
      harness.proxy.stall();
      const outcome = await sendOverSocket(socket, send('lost-reply'), STALL_BOUND_MS + 4000);
      await waitFor(() => received.length === 1, 3000);
      const stored = await Message.find({ conversation_id: conv }).sort({ seq: 1 }).lean();
      const conversation = await Conversation.findById(conv).lean();

      expect(outcome).toMatchObject({
        kind: 'stored',
        message: { seq: 2, text: 'message lost-reply' },
      });
      expect(outcome.ms).toBeLessThan(STALL_BOUND_MS);
      expect(outcome.ms).toBeGreaterThan(HELD_REPLY_MIN_MS);
      expect(received).toEqual([expect.objectContaining({ seq: 2, text: 'message lost-reply' })]);
      expect(stored.map((m) => m.text)).toEqual(['message warm', 'message lost-reply']);
      expect(conversation).toMatchObject({
        last_seq: 2,
        last_message: { seq: 2, text: 'message lost-reply' },
      });
    }, 30000);

    it('answers a delete whose reply was lost as done, and announces it once', async () => {
      const socket = await joinedSocket(sender);
      const receiver = await joinedSocket(recipient);
      const first = await sendOverSocket(socket, send('stays'));
      const second = await sendOverSocket(socket, send('goes'));
      if (second.kind !== 'stored' || first.kind !== 'stored') throw new Error('sends failed');
      const deletions = record(receiver, 'message_deleted');

      harness.proxy.holdReplyTo(commandMarker('update', 'messages'));
      const started = Date.now();
      const res = await request(harness.service.url)
        .delete(`/api/chat/conversations/${conv}/messages/${second.message._id}`)
        .set('Authorization', `Bearer ${sender.token}`);
      const ms = Date.now() - started;
      harness.proxy.restore();
      await waitFor(() => deletions.length === 1, 3000);
      await settle(300);
      const conversation = await Conversation.findById(conv).lean();

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, data: { _id: second.message._id } });
      expect(ms).toBeLessThan(STALL_BOUND_MS);
      expect(ms).toBeGreaterThan(HELD_REPLY_MIN_MS);
      expect(deletions).toEqual([
        expect.objectContaining({ _id: second.message._id, conversation_id: conv, seq: 2 }),
      ]);
      expect(await Message.findById(second.message._id).lean()).toMatchObject({
        deleted_at: expect.any(Date),
      });
      expect(conversation?.last_message).toMatchObject({ seq: first.message.seq });
    }, 30000);

    it('announces a delete once when its first attempt was lost and the client’s retry made it', async () => {
      const socket = await joinedSocket(sender);
      const receiver = await joinedSocket(recipient);
      const sent = await sendOverSocket(socket, send('to-delete'));
      if (sent.kind !== 'stored') throw new Error('send failed');
      const deletions = record(receiver, 'message_deleted');
      const remove = () =>
        request(harness.service.url)
          .delete(`/api/chat/conversations/${conv}/messages/${sent.message._id}`)
          .set('Authorization', `Bearer ${sender.token}`);

      // The first delete never reaches the database: after the socket timeout it is
      // read back, not found, refused retryably, and watched for in the background.
      harness.proxy.dropCommand(commandMarker('update', 'messages'));
      const first = await remove();
      const retried = await remove();
      // The background checks (0.5, 2 and 8 s, jittered) see the retry's deletion, not theirs.
      await settle(11000);

      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true });
      expect(retried.status).toBe(200);
      expect(deletions).toEqual([expect.objectContaining({ _id: sent.message._id })]);
    }, 40000);

    it('answers a read whose horizon update lost its reply as done: messages marked, receipt announced once', async () => {
      const senderSocket = await joinedSocket(sender);
      const sent = await sendOverSocket(senderSocket, send('to-read'));
      if (sent.kind !== 'stored') throw new Error('send failed');
      const receipts = record(senderSocket, 'messages_read');

      harness.proxy.holdReplyTo(commandMarker('update', 'conversations'));
      const started = Date.now();
      const res = await request(harness.service.url)
        .post(`/api/chat/conversations/${conv}/read`)
        .set('Authorization', `Bearer ${recipient.token}`);
      const ms = Date.now() - started;
      harness.proxy.restore();
      await waitFor(() => receipts.length === 1, 3000);
      await settle(300);

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        success: true,
        data: { read_up_to_seq: 1, marked_count: 1, reader_id: recipient.id },
      });
      expect(ms).toBeLessThan(STALL_BOUND_MS);
      expect(ms).toBeGreaterThan(HELD_REPLY_MIN_MS);
      expect(receipts).toEqual([expect.objectContaining({ conversation_id: conv })]);
      expect(await Message.findById(sent.message._id).lean()).toMatchObject({
        is_read: true,
        status: 'read',
      });
    }, 30000);

    it('refuses retryably when it cannot tell, announces the message once it can (to those in the conversation then), and the retry replays it', async () => {
      const [leaver] = await createUsers(1);
      await request(harness.service.url)
        .post(`/api/chat/conversations/${conv}/participants`)
        .set('Authorization', `Bearer ${sender.token}`)
        .send({ user_id: leaver.id })
        .expect(200);
      const socket = await joinedSocket(sender);
      const receiver = await joinedSocket(recipient);
      const leaverSocket = await harness.connect(leaver.token);
      const leaverNotified = record(leaverSocket, 'message_notification');
      expect((await sendOverSocket(socket, send('warm'))).kind).toBe('stored');
      const received = record(receiver, 'new_message');

      harness.proxy.stall({ alsoNew: true });
      const refused = await sendOverSocket(socket, send('unknown'), STALL_BOUND_MS + 4000);
      const storedDuringStall = await Message.countDocuments({ conversation_id: conv });
      harness.proxy.restore();
      // Removed before the background check finds the message (its first look is 0.5 s on).
      await request(harness.service.url)
        .delete(`/api/chat/conversations/${conv}/participants/${leaver.id}`)
        .set('Authorization', `Bearer ${sender.token}`)
        .expect(200);
      // The background read-back (0.5, 2, 8 s after the failure) finds it and announces it.
      await waitFor(() => received.length === 1, 15000);
      const retried = await sendOverSocket(socket, send('unknown'));
      await settle(300);

      expect(refused).toMatchObject({
        kind: 'refused',
        body: { success: false, code: 'DATABASE_UNAVAILABLE', retryable: true },
      });
      expect(refused.ms).toBeLessThan(STALL_BOUND_MS);
      expect(storedDuringStall).toBe(2);
      expect(received).toEqual([expect.objectContaining({ seq: 2, text: 'message unknown' })]);
      expect(retried).toMatchObject({ kind: 'stored', message: { seq: 2 } });
      // Notified of the message before the removal, not of the one announced after it.
      expect(leaverNotified.map((n) => (n as { seq: number }).seq)).toEqual([1]);
      const conversation = await Conversation.findById(conv).lean();
      expect(conversation).toMatchObject({ last_seq: 2, last_message: { seq: 2 } });
    }, 45000);
  });
});

describe('boot while an index build outlasts the socket timeout', () => {
  it('asks again and waits for it instead of failing the boot', async () => {
    const slowProxy = await startTcpProxy(testDatabaseTarget());
    // The first createIndexes on messages gets no reply: the driver gives up after
    // its 10 s socket timeout, as it would on a long build.
    slowProxy.holdReplyTo(commandMarker('createIndexes', 'messages'));
    const started = Date.now();
    const booted = await startServiceProcess({
      MONGODB_URI: proxiedDatabaseUri(slowProxy, mongoose.connection.name),
    }).catch((err: unknown) => err as Error);
    try {
      const ms = Date.now() - started;
      expect(booted).not.toBeInstanceOf(Error);
      const service = booted as ServiceProcess;
      expect(ms).toBeGreaterThan(9000);
      expect((await request(service.url).get('/ready')).status).toBe(200);
    } finally {
      if (!(booted instanceof Error)) await booted.stop();
      await slowProxy.close();
    }
  }, 45000);
});
