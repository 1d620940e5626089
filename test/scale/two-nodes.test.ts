import request from 'supertest';
import { Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { createConversation, createUsers, type TestUser } from '../factories';
import { clusterTestRedis, sendOver, startServiceNode, type ServiceNode } from '../helpers/cluster';
import {
  connectReconnecting,
  connectClient,
  emitAck,
  record,
  settle,
  waitFor,
  type ClientSocket,
} from '../helpers/realtime';
import { joinHorseTrust, joinKarmyq } from '../helpers/realtime-suite';

/**
 * Two service processes on one database and one Redis: a sender on node A and a
 * recipient on node B get every event exactly once; an outsider on B gets none.
 */
const { redisUrl, describeWithRedis } = clusterTestRedis('two-nodes');

const QUIET_MS = 300;

describeWithRedis('two nodes over Redis', () => {
  let nodeA: ServiceNode;
  let nodeB: ServiceNode;
  const sockets: ClientSocket[] = [];
  let a: TestUser, b: TestUser, outsider: TestUser, conv: string;
  let sa: ClientSocket, sb: ClientSocket, so: ClientSocket;

  beforeAll(async () => {
    [nodeA, nodeB] = await Promise.all([startServiceNode(redisUrl), startServiceNode(redisUrl)]);
  }, 60000);
  afterAll(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  });
  beforeEach(async () => {
    [a, b, outsider] = await createUsers(3);
    conv = await createConversation([a, b]);
    sa = await connectClient(nodeA.url, a.token);
    [sb, so] = await Promise.all([
      connectClient(nodeB.url, b.token),
      connectClient(nodeB.url, outsider.token),
    ]);
    sockets.push(sa, sb, so);
    expect(await emitAck(sa, 'join_conversation', conv)).toMatchObject({ success: true });
    expect(await emitAck(sb, 'join_conversation', conv)).toMatchObject({ success: true });
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));

  it('reports Redis in readiness on both nodes', async () => {
    for (const node of [nodeA, nodeB]) {
      const res = await request(node.url).get('/ready').expect(200);
      expect(res.body.checks).toEqual({ database: true, redis: true });
    }
  });

  it('delivers a socket send on A to the recipient on B once: new_message and message_notification', async () => {
    const bMessages = record(sb, 'new_message');
    const bNotes = record(sb, 'message_notification');
    const aEcho = record(sa, 'new_message');
    const outsiderSaw = [record(so, 'new_message'), record(so, 'message_notification')];

    const ack = await emitAck(sa, 'send_message', {
      conversation_id: conv,
      text: 'Across the cluster',
    });
    expect(ack.success).toBe(true);
    await waitFor(() => bMessages.length === 1 && bNotes.length === 1 && aEcho.length === 1, 5000);
    await settle(QUIET_MS);

    expect(bMessages).toHaveLength(1);
    expect(bMessages[0]).toMatchObject({
      text: 'Across the cluster',
      sender_id: { _id: a.id },
      seq: 1,
    });
    expect(bNotes).toEqual([
      expect.objectContaining({
        conversation_id: conv,
        sender: a.id,
        preview: 'Across the cluster',
      }),
    ]);
    expect(aEcho).toHaveLength(1);
    expect(outsiderSaw.flat()).toHaveLength(0);
  });

  it('reaches every device of a user on either node once, each in its room’s dialect', async () => {
    const bOnA = await connectClient(nodeA.url, b.token); // b's second device, Karmyq
    const aOnB = await connectClient(nodeB.url, a.token); // a's second device, Horse Trust
    sockets.push(bOnA, aOnB);
    await joinKarmyq(bOnA, conv, b.id);
    await joinHorseTrust(aOnB, conv);
    const seen = {
      bOnB: record(sb, 'new_message'),
      bOnA: record(bOnA, 'new_message'),
      bNotes: [record(sb, 'message_notification'), record(bOnA, 'message_notification')],
      aOnB: record(aOnB, 'new_message'),
      aNotes: record(aOnB, 'message_notification'),
    };

    const ack = await emitAck(sa, 'send_message', { conversation_id: conv, text: 'Both phones' });
    if (!ack.success) throw new Error(`send refused: ${ack.message}`);
    const sent = ack.data as MessageView;
    await waitFor(
      () =>
        seen.bOnB.length + seen.bOnA.length + seen.aOnB.length === 3 &&
        seen.bNotes.flat().length === 2,
      5000,
    );
    await settle(QUIET_MS);

    expect(seen.bOnB).toEqual([
      expect.objectContaining({
        text: 'Both phones',
        sender_id: expect.objectContaining({ _id: a.id }),
      }),
    ]);
    expect(seen.bOnA).toEqual([
      {
        id: sent._id,
        conversation_id: conv,
        sender_id: a.id,
        sender_name: a.full_name,
        content: 'Both phones',
        status: 'sent',
        created_at: sent.sent_at,
        seq: 1,
      },
    ]);
    expect(seen.bNotes.map((notes) => notes.length)).toEqual([1, 1]);
    expect(seen.aOnB).toEqual([expect.objectContaining({ text: 'Both phones', seq: 1 })]);
    expect(seen.aNotes).toEqual([]);
  });

  it('relays typing, read receipts, delivery receipts and deletions across nodes exactly once', async () => {
    const aTyping = record(sa, 'user_typing');
    const bTyping = record(sb, 'user_typing');
    const aReads = record(sa, 'messages_read');
    const aDelivered = record(sa, 'message_delivered');
    const bDeleted = record(sb, 'message_deleted');

    expect(await emitAck(sa, 'typing', conv)).toMatchObject({ success: true });
    await waitFor(() => bTyping.length === 1, 5000);

    const sent = await sendOver(nodeA.url, a.token, conv, 'Vet check done?').expect(201);
    const messageId = (sent.body as { data: MessageView }).data._id;

    expect(
      await emitAck(sb, 'message_received', { conversation_id: conv, message_id: messageId }),
    ).toMatchObject({
      success: true,
    });
    await waitFor(() => aDelivered.length === 1, 5000);

    await request(nodeB.url)
      .get(`/api/chat/conversations/${conv}/messages`)
      .set('Authorization', `Bearer ${b.token}`)
      .expect(200);
    await waitFor(() => aReads.length === 1, 5000);

    await request(nodeA.url)
      .delete(`/api/chat/conversations/${conv}/messages/${messageId}`)
      .set('Authorization', `Bearer ${a.token}`)
      .expect(200);
    await waitFor(() => bDeleted.length === 1, 5000);
    await settle(QUIET_MS);

    expect(bTyping).toEqual([{ conversation_id: conv, userId: a.id }]);
    expect(aTyping).toHaveLength(0);
    expect(aDelivered).toEqual([
      expect.objectContaining({ message_id: messageId, delivered_to: b.id }),
    ]);
    expect(aReads).toEqual([expect.objectContaining({ conversation_id: conv, reader_id: b.id })]);
    expect(bDeleted).toEqual([expect.objectContaining({ _id: messageId, conversation_id: conv })]);
    expect((await Message.findById(messageId).lean())?.deleted_at).toBeInstanceOf(Date);
  });

  it('takes a participant removed on node A out of the rooms of its sockets on both nodes', async () => {
    const bOnA = await connectClient(nodeA.url, b.token);
    sockets.push(bOnA);
    await joinKarmyq(bOnA, conv, b.id);
    const bMessages = [record(sb, 'new_message'), record(bOnA, 'new_message')];
    const bRemoved = [
      record(sb, 'removed_from_conversation'),
      record(bOnA, 'removed_from_conversation'),
    ];
    await request(nodeA.url)
      .delete(`/api/chat/conversations/${conv}/participants/${b.id}`)
      .set('Authorization', `Bearer ${a.token}`)
      .expect(200);
    // At once: node A publishes the leave before it answers, and the adapter's one
    // stream keeps its order, so node B applies it before this broadcast.
    await emitAck(sa, 'send_message', { conversation_id: conv, text: 'after removal' });
    await waitFor(() => bRemoved.every((events) => events.length === 1), 5000);
    await sendOver(nodeB.url, a.token, conv, 'from node B after removal').expect(201);
    await settle(QUIET_MS);

    expect(bRemoved).toEqual([[{ conversation_id: conv }], [{ conversation_id: conv }]]);
    expect(bMessages).toEqual([[], []]);
  });

  it('takes a removed participant out at once, while a frozen node B holds up the answer', async () => {
    const bOnA = await connectClient(nodeA.url, b.token);
    sockets.push(bOnA);
    await joinHorseTrust(bOnA, conv);
    const bMessages = record(bOnA, 'new_message');
    const bRemoved = record(bOnA, 'removed_from_conversation');
    // A stopped process still counts as a node until its heartbeat times out, so node
    // A's cache invalidation waits for its confirmation (up to ~5 s) before answering.
    nodeB.process.kill('SIGSTOP');
    try {
      const removal = request(nodeA.url)
        .delete(`/api/chat/conversations/${conv}/participants/${b.id}`)
        .set('Authorization', `Bearer ${a.token}`)
        .then((res) => res);
      await waitFor(() => bRemoved.length === 1, 2000);
      await emitAck(sa, 'send_message', { conversation_id: conv, text: 'while B is frozen' });
      await settle(QUIET_MS);
      const answeredEarly = await Promise.race([
        removal.then(() => true),
        settle(0).then(() => false),
      ]);
      nodeB.process.kill('SIGCONT');

      expect((await removal).status).toBe(200);
      expect(answeredEarly).toBe(false);
      expect(bRemoved).toEqual([{ conversation_id: conv }]);
      expect(bMessages).toEqual([]);
    } finally {
      nodeB.process.kill('SIGCONT');
    }
  }, 20000);

  it('refuses a send on node A once a removal or a block on node B is answered (no stale cache)', async () => {
    const sendOnA = (text: string) => sendOver(nodeA.url, b.token, conv, text);
    await sendOnA('warms node A up').expect(201);

    await request(nodeB.url)
      .post(`/api/chat/blocks/${b.id}`)
      .set('Authorization', `Bearer ${a.token}`)
      .expect(201);
    const blocked = await sendOnA('after the block');
    expect(blocked.status).toBe(403);
    expect(blocked.body).toMatchObject({ success: false });

    await request(nodeB.url)
      .delete(`/api/chat/blocks/${b.id}`)
      .set('Authorization', `Bearer ${a.token}`)
      .expect(200);
    await sendOnA('unblocked').expect(201);

    await request(nodeB.url)
      .delete(`/api/chat/conversations/${conv}/participants/${b.id}`)
      .set('Authorization', `Bearer ${a.token}`)
      .expect(200);
    const removed = await sendOnA('after the removal');
    expect(removed.status).toBe(404);

    const texts = (await Message.find({ conversation_id: conv }).sort({ seq: 1 }).lean()).map(
      (m) => m.text,
    );
    expect(texts).toEqual(['warms node A up', 'unblocked']);
  });

  it('recovers a dropped socket on node B through Redis, without a conversation it was removed from', async () => {
    const rb = await connectReconnecting(nodeB.url, b.token);
    sockets.push(rb);
    expect(await emitAck(rb, 'join_conversation', conv)).toMatchObject({ success: true });
    const texts: string[] = [];
    rb.on('new_message', (m) => texts.push((m as MessageView).text));
    const removed = record(rb, 'removed_from_conversation');
    const send = (text: string) => emitAck(sa, 'send_message', { conversation_id: conv, text });
    // Away for the whole of `work`: with the Redis adapter, what is broadcast in the
    // instant between the session's restore and the connection is not replayed.
    const dropWhile = async (work: () => Promise<unknown>) => {
      rb.io.reconnection(false);
      rb.io.engine.close();
      await work();
      const back = new Promise<void>((resolve) => rb.once('connect', () => resolve()));
      rb.connect();
      await back;
      expect(rb.recovered).toBe(true);
    };
    await send('first');
    await waitFor(() => texts.length === 1, 5000);

    await dropWhile(() => send('while away'));
    await waitFor(() => texts.length === 2, 5000);
    await dropWhile(async () => {
      await request(nodeA.url)
        .delete(`/api/chat/conversations/${conv}/participants/${b.id}`)
        .set('Authorization', `Bearer ${a.token}`)
        .expect(200);
      await send('secret');
    });
    await waitFor(() => removed.length === 1, 5000);
    await send('secret too');
    await settle(QUIET_MS);

    expect(texts).toEqual(['first', 'while away']);
    expect(removed).toEqual([{ conversation_id: conv }]);
  });

  it('keeps seq gapless when both nodes take sends for one conversation at once', async () => {
    const sends = Array.from({ length: 20 }, (_, i) =>
      sendOver(i % 2 ? nodeA.url : nodeB.url, (i % 2 ? a : b).token, conv, `bid ${i}`),
    );
    const answers = await Promise.all(sends);
    expect(answers.every((r) => r.status === 201)).toBe(true);
    const seqs = (await Message.find({ conversation_id: conv }).lean())
      .map((m) => m.seq)
      .sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
