import net from 'node:net';
import { Message } from '../../models';
import { userRoom } from '../../src/realtime/rooms';
import type { RunningServer } from '../../src/server';
import { createConversation, createUsers, type TestUser } from '../factories';
import { holdRequest, requestHead, type HeldRequest } from '../helpers/held-request';
import {
  connectClient,
  emitAck,
  startTestServer,
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

/**
 * SIGTERM on a real service process in the middle of a stream of sends over REST
 * and a socket. The node must stop taking work, finish and answer what it
 * accepted, tell sockets to go elsewhere, and exit 0 within SHUTDOWN_TIMEOUT_MS.
 * A client that retries what got no success (on a restarted node) must end up
 * with every message stored exactly once.
 */

const SHUTDOWN_TIMEOUT_MS = 5000;
// Process teardown after stop() resolves (and the exit reaching this process).
const EXIT_MARGIN_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Attempt {
  input: SendInput;
  outcome: SendOutcome;
  /**
   * Whether the answer came after SIGTERM was sent. (Not when the attempt started: a
   * connection the kernel took but the server had not accepted yet is reset by close().)
   */
  afterSigterm: boolean;
}

describe('graceful shutdown on SIGTERM', () => {
  const services: ServiceProcess[] = [];
  const sockets: ClientSocket[] = [];
  const held: HeldRequest[] = [];
  const inProcess: RunningServer[] = [];
  let sender: TestUser, recipient: TestUser, conv: string;

  const start = async () => {
    const service = await startServiceProcess({
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });
    services.push(service);
    return service;
  };
  const joinedSocket = async (url: string, user: TestUser) => {
    const socket = await connectClient(url, user.token);
    sockets.push(socket);
    expect(await emitAck(socket, 'join_conversation', conv)).toMatchObject({ success: true });
    return socket;
  };
  const input = (id: string): SendInput => ({
    conversation_id: conv,
    text: `offer ${id}`,
    client_message_id: id,
  });

  beforeEach(async () => {
    [sender, recipient] = await createUsers(2);
    conv = await createConversation([sender, recipient]);
  });
  afterEach(async () => {
    held.splice(0).forEach((request) => request.destroy());
    sockets.splice(0).forEach((socket) => socket.close());
    await Promise.all(services.splice(0).map((service) => service.stop()));
    await Promise.all(inProcess.splice(0).map((server) => server.stop()));
  });

  it('finishes accepted sends, refuses later ones retryably, says server_shutdown and exits 0 in time; retries then store each message once', async () => {
    // Arrange: a node, the sender's socket in the room, the recipient's socket online.
    const service = await start();
    const socket = await joinedSocket(service.url, sender);
    const recipientSocket = await joinedSocket(service.url, recipient);
    let shutdownNoticeAt: number | undefined;
    let disconnectedAt: number | undefined;
    socket.on('server_shutdown', () => (shutdownNoticeAt ??= Date.now()));
    socket.on('disconnect', () => (disconnectedAt ??= Date.now()));
    const recipientNotices: unknown[] = [];
    recipientSocket.on('server_shutdown', (notice) => recipientNotices.push(notice));

    // A stream of sends over both paths, each with its own client_message_id.
    const attempts: Attempt[] = [];
    let sigtermAt = 0; // 0 until SIGTERM is sent
    const attempt = async (id: string, via: 'rest' | 'socket') => {
      const outcome =
        via === 'rest'
          ? await sendOverRest(service.url, sender.token, input(id), 5000)
          : await sendOverSocket(socket, input(id), 5000);
      attempts.push({ input: input(id), outcome, afterSigterm: sigtermAt > 0 });
    };
    const restStream = (async () => {
      for (let i = 0; service.running; i++) {
        await attempt(`rest-${i}`, 'rest');
        await sleep(15);
      }
    })();
    const socketStream = (async () => {
      for (let i = 0; socket.connected; i++) {
        await attempt(`socket-${i}`, 'socket');
        await sleep(15);
      }
    })();
    await waitFor(() => attempts.filter((a) => a.outcome.kind === 'stored').length >= 10, 10000);

    // A send whose body is still arriving when SIGTERM lands (accepted, so in flight), and
    // a send and a /ready whose headers are incomplete (they reach the app during the drain).
    const sendHead = (body: string) =>
      requestHead('POST', `/api/chat/conversations/${conv}/messages`, {
        Authorization: `Bearer ${sender.token}`,
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      });
    const slowBody = JSON.stringify({ text: 'slow offer', client_message_id: 'slow-1' });
    const lateBody = JSON.stringify({ text: 'late offer', client_message_id: 'late-1' });
    const slowSend = await holdRequest(
      service.url,
      `${sendHead(slowBody)}\r\n${slowBody.slice(0, 10)}`,
    );
    const lateSend = await holdRequest(service.url, sendHead(lateBody));
    const heldReady = await holdRequest(service.url, requestHead('GET', '/ready'));
    held.push(slowSend, lateSend, heldReady);
    await sleep(200);

    // Act: SIGTERM mid-stream.
    sigtermAt = Date.now();
    service.signal('SIGTERM');
    await service.waitForLog((line) => logMessage(line) === 'shutting down', 5000);
    const readyDuringDrain = await heldReady.finish('\r\n');
    const lateSendAnswer = await lateSend.finish(`\r\n${lateBody}`);
    const socketSendDuringDrain = await sendOverSocket(socket, input('during-drain'), 5000);
    attempts.push({
      input: input('during-drain'),
      outcome: socketSendDuringDrain,
      afterSigterm: true,
    });
    const slowAnswer = await slowSend.finish(slowBody.slice(10));
    const exit = await service.exited;
    await Promise.all([restStream, socketStream]);

    // Assert: the process went by itself, cleanly and in time.
    expect(exit.code).toBe(0);
    expect(exit.at - sigtermAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
    expect(service.logs.some((line) => logMessage(line) === 'stopped')).toBe(true);
    // The drain was observable: not ready, and new work refused retryably.
    expect(readyDuringDrain.status).toBe(503);
    expect(JSON.parse(readyDuringDrain.body)).toMatchObject({
      success: false,
      checks: { accepting_traffic: false },
    });
    expect(lateSendAnswer.status).toBe(503);
    // Logged as the expected refusal it is: a warning without a made-up error and stack.
    const refusalLogs = service.logs.filter(
      (line) => logMessage(line) === 'request refused retryably (503)',
    );
    expect(refusalLogs.length).toBeGreaterThan(0);
    for (const line of refusalLogs) {
      expect(line.json).toMatchObject({ level: 40, res: { statusCode: 503 } });
      expect(line.json).not.toHaveProperty('err');
    }
    expect(lateSendAnswer.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(lateSendAnswer.body)).toMatchObject({
      success: false,
      code: 'SHUTTING_DOWN',
      retryable: true,
    });
    expect(socketSendDuringDrain).toMatchObject({
      kind: 'refused',
      body: { success: false, code: 'SHUTTING_DOWN', retryable: true },
    });
    // The send accepted before SIGTERM finished and was answered during the drain.
    expect(slowAnswer.status).toBe(201);
    const slowMessage = (JSON.parse(slowAnswer.body) as { data: { _id: string } }).data;
    // Sockets were told to reconnect elsewhere before the process went away.
    expect(shutdownNoticeAt).toBeDefined();
    expect(shutdownNoticeAt!).toBeLessThanOrEqual(exit.at);
    expect(disconnectedAt).toBeDefined();
    expect(recipientNotices).toEqual([
      expect.objectContaining({ reconnect: true, message: expect.any(String) }),
    ]);

    // Every answer was a success or, once SIGTERM was sent, a retryable refusal or a
    // connection error: never a non-retryable failure.
    for (const { outcome, afterSigterm, input: sent } of attempts) {
      if (outcome.kind === 'refused') {
        expect({ id: sent.client_message_id, body: outcome.body, afterSigterm }).toMatchObject({
          body: { success: false, code: 'SHUTTING_DOWN', retryable: true },
          afterSigterm: true,
        });
        if (outcome.via === 'rest') expect(outcome.status).toBe(503);
      }
      if (outcome.kind === 'connection-error') {
        expect({ id: sent.client_message_id, afterSigterm }).toEqual({
          id: sent.client_message_id,
          afterSigterm: true,
        });
      }
    }
    // Nothing acknowledged is lost: every success is stored, under the id it was answered with.
    const stored = await Message.find({ conversation_id: conv }).lean();
    const byClientId = new Map(stored.map((m) => [m.client_message_id, m]));
    const successes = attempts.filter((a) => a.outcome.kind === 'stored');
    expect(successes.length).toBeGreaterThanOrEqual(10);
    for (const { input: sent, outcome } of successes) {
      const doc = byClientId.get(sent.client_message_id);
      expect(doc?._id.toString()).toBe(outcome.kind === 'stored' && outcome.message._id);
    }
    expect(byClientId.get('slow-1')?._id.toString()).toBe(slowMessage._id);
    expect(byClientId.has('late-1')).toBe(false);

    // The client goes to a restarted node and retries everything that got no success.
    const restarted = await start();
    const retrySocket = await joinedSocket(restarted.url, sender);
    const unanswered = attempts.filter((a) => a.outcome.kind !== 'stored');
    for (const [i, { input: sent }] of unanswered.entries()) {
      const retry =
        i % 2 === 0
          ? await sendOverRest(restarted.url, sender.token, sent)
          : await sendOverSocket(retrySocket, sent);
      expect({ id: sent.client_message_id, kind: retry.kind }).toEqual({
        id: sent.client_message_id,
        kind: 'stored',
      });
    }
    const late = await sendOverRest(restarted.url, sender.token, {
      conversation_id: conv,
      text: 'late offer',
      client_message_id: 'late-1',
    });
    expect(late).toMatchObject({ kind: 'stored', status: 201 });
    const everyId = new Set([
      ...attempts.map((a) => a.input.client_message_id),
      'slow-1',
      'late-1',
    ]);
    const final = await Message.find({ conversation_id: conv }).sort({ seq: 1 }).lean();
    expect(final.map((m) => m.client_message_id).sort()).toEqual([...everyId].sort());
    expect(final.map((m) => m.seq)).toEqual(final.map((_, i) => i + 1));
  }, 40000);

  it('exits within SHUTDOWN_TIMEOUT_MS even when a request body or request headers never finish', async () => {
    const service = await start();
    const body = JSON.stringify({ text: 'never finished', client_message_id: 'stuck-1' });
    const stuck = await holdRequest(
      service.url,
      `${requestHead('POST', `/api/chat/conversations/${conv}/messages`, {
        Authorization: `Bearer ${sender.token}`,
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      })}\r\n${body.slice(0, 5)}`,
    );
    // Never reaches the app, so it is not in flight, but it holds its connection open.
    const halfHeaders = await holdRequest(service.url, requestHead('GET', '/health'));
    held.push(stuck, halfHeaders);
    await sleep(200);

    const sigtermAt = Date.now();
    service.signal('SIGTERM');
    const exit = await service.exited;

    expect(exit.code).toBe(0);
    expect(exit.at - sigtermAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
    expect(
      service.logs.some((line) =>
        logMessage(line).includes('work still in flight at the deadline'),
      ),
    ).toBe(true);
    // Never answered, so never acknowledged: the client sees the connection drop, and retries.
    await expect(stuck.finish(body.slice(5))).rejects.toThrow();
    await expect(halfHeaders.finish('\r\n')).rejects.toThrow();
    expect(await Message.countDocuments({ conversation_id: conv })).toBe(0);
  }, 20000);

  it('does not wait for pipelined requests whose connection the client dropped', async () => {
    const service = await start();
    const port = Number(new URL(service.url).port);
    // Thousands of requests in one write, on a connection the client never reads and
    // then destroys: Node never answers the ones queued behind the first.
    const pipelined =
      `GET /api/chat/conversations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bad.x.y\r\n\r\n`.repeat(
        2000,
      );
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.pause();
    client.write(pipelined);
    await sleep(1000);
    client.destroy();
    await sleep(200);

    const sigtermAt = Date.now();
    service.signal('SIGTERM');
    const exit = await service.exited;

    expect(exit.code).toBe(0);
    expect(
      service.logs.filter((line) => logMessage(line).includes('work still in flight')),
    ).toEqual([]);
    // Well before the drain deadline it would otherwise wait out.
    expect(exit.at - sigtermAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS - 2000);
  }, 20000);

  it('answers every socket send it stored before it closes the connection, the last of a queue included', async () => {
    const server = await startTestServer();
    inProcess.push(server);
    const socket = await joinedSocket(server.url, sender);
    const stored = new Promise<void>((resolve) => socket.once('new_message', () => resolve()));

    // A queue of sends on one socket, then a stop while the queue is being worked off.
    const ids = Array.from({ length: 6 }, (_, i) => `queued-${i}`);
    const outcomes = ids.map((id) => sendOverSocket(socket, input(id), 3000));
    await stored;
    await server.stop();

    const answers = await Promise.all(outcomes);
    const storedIds = (await Message.find({ conversation_id: conv }).lean()).map(
      (m) => m.client_message_id,
    );
    expect(storedIds.length).toBeGreaterThan(0);
    // Stored means answered with success; the rest were refused retryably, none left unanswered.
    ids.forEach((id, i) => {
      const expected = storedIds.includes(id)
        ? { id, kind: 'stored' }
        : { id, kind: 'refused', body: expect.objectContaining({ code: 'SHUTTING_DOWN' }) };
      expect({ id, ...answers[i] }).toMatchObject(expected);
    });
  });

  it('delivers server_shutdown, and everything queued before it, to a socket with a write backlog', async () => {
    const server = await startTestServer();
    inProcess.push(server);
    const socket = await connectClient(server.url, recipient.token);
    sockets.push(socket);
    let notifications = 0;
    let noticed = false;
    socket.on('message_notification', () => (notifications += 1));
    socket.on('server_shutdown', () => (noticed = true));
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));

    // Far more than one write at a time: most of it waits in the connection's buffer.
    for (let seq = 1; seq <= 200; seq++) {
      server.realtime.io.to(userRoom(recipient.id)).emit('message_notification', {
        conversation_id: conv,
        sender: sender.id,
        preview: 'x'.repeat(5000),
        message_id: `m${seq}`,
        seq,
      });
    }
    await server.stop();

    expect(await disconnected).toBe('transport close');
    expect(notifications).toBe(200);
    expect(noticed).toBe(true);
  });
});
