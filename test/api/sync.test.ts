import { randomBytes } from 'node:crypto';
import { Message } from '../../models';
import type { SyncResult } from '../../src/chat/sync.service';
import { createConversation, createUsers } from '../factories';
import { client, dataOf, eventsOf, expectFailure, ISO_DATE } from '../helpers/api';
import { buildTestApp } from '../helpers/app';
import { cursorNow, sendAs, settle, sync } from '../helpers/sync';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('GET /api/chat/sync', () => {
  it('answers without since with empty lists, has_more false and a cursor to follow from', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await sendAs(app, bob, conversationId, 'already in history');

    const res = await client(app, alice.token).get('/sync');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      data: { messages: [], reads: [], deletions: [], cursor: expect.any(String), has_more: false },
    });
    expect(dataOf<SyncResult>(res).cursor.length).toBeGreaterThan(0);
    expect(await Message.countDocuments({ status: 'sent' })).toBe(1);
  });

  it("returns exactly the messages sent after the cursor, across the caller's conversations only, in the seed shape", async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const withBob = await createConversation([alice, bob]);
    const withCarol = await createConversation([alice, carol]);
    const notMine = await createConversation([bob, carol]);
    await sendAs(app, bob, withBob, 'before the cursor');
    const api = client(app, alice.token);
    const cursor = await cursorNow(api);

    const sent = [
      await sendAs(app, bob, withBob, 'from bob'),
      await sendAs(app, carol, withCarol, 'from carol'),
      await sendAs(app, alice, withBob, 'from alice'),
    ];
    await sendAs(app, bob, notMine, 'not for alice');
    await settle();
    const data = await sync(api, cursor);

    expect(data.messages.map((m) => m._id)).toEqual(sent.map((m) => m._id));
    expect(data.messages[0]).toEqual({
      _id: sent[0]._id,
      conversation_id: withBob,
      sender_id: { _id: bob.id, full_name: bob.full_name, profile_picture_url: expect.any(String) },
      text: 'from bob',
      is_read: false,
      read_at: null,
      sent_at: expect.stringMatching(ISO_DATE),
      seq: 2,
      status: 'delivered',
    });
    expect(data.messages.map((m) => [m.conversation_id, m.seq, m.status])).toEqual([
      [withBob, 2, 'delivered'],
      [withCarol, 1, 'delivered'],
      [withBob, 3, 'sent'],
    ]);
    expect(data).toMatchObject({ reads: [], deletions: [], has_more: false });
  });

  it("reports another participant's read with its read_up_to_seq, and the messages as read", async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const api = client(app, alice.token);
    const cursor = await cursorNow(api);
    for (const text of ['one', 'two', 'three']) await sendAs(app, alice, conversationId, text);

    const history = await client(app, bob.token).get(`/conversations/${conversationId}/messages`);
    await settle();
    const data = await sync(api, cursor);

    expect(history.status).toBe(200);
    expect(data.reads).toEqual([
      {
        conversation_id: conversationId,
        reader_id: bob.id,
        read_up_to_seq: 3,
        read_at: expect.stringMatching(ISO_DATE),
      },
    ]);
    expect(data.messages.map((m) => [m.seq, m.is_read, m.status])).toEqual([
      [1, true, 'read'],
      [2, true, 'read'],
      [3, true, 'read'],
    ]);
    expect(eventsOf(events, 'messagesRead').map((e) => [e.readerId, e.upToSeq])).toEqual([
      [bob.id, 3],
    ]);
  });

  it('reports deletions as {_id, conversation_id, seq, deleted_at} and leaves deleted messages out of messages', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const older = await sendAs(app, alice, conversationId, 'sent before the cursor');
    const api = client(app, bob.token);
    const cursor = await cursorNow(api);
    const doomed = await sendAs(app, alice, conversationId, 'deleted soon');
    const kept = await sendAs(app, alice, conversationId, 'kept');

    for (const id of [older._id, doomed._id]) {
      const res = await client(app, alice.token).delete(
        `/conversations/${conversationId}/messages/${id}`,
      );
      expect(res.status).toBe(200);
    }
    await settle();
    const data = await sync(api, cursor);

    expect(data.messages.map((m) => m._id)).toEqual([kept._id]);
    expect(data.deletions).toEqual([
      {
        _id: older._id,
        conversation_id: conversationId,
        seq: 1,
        deleted_at: expect.stringMatching(ISO_DATE),
      },
      {
        _id: doomed._id,
        conversation_id: conversationId,
        seq: 2,
        deleted_at: expect.stringMatching(ISO_DATE),
      },
    ]);
    const stored = await Message.findById(doomed._id).lean();
    expect(stored?.deleted_at?.toISOString()).toBe(data.deletions[1].deleted_at);
  });

  it('pages 25 changes with limit=10 as 10/10/5 with has_more true/true/false, each change once, in order', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const api = client(app, bob.token);
    let cursor = await cursorNow(api);
    const sent: string[] = [];
    for (let i = 1; i <= 25; i++)
      sent.push((await sendAs(app, alice, conversationId, `m${i}`))._id);
    await settle();

    const pages: SyncResult[] = [];
    for (let i = 0; i < 3; i++) {
      const data = await sync(api, cursor, 10);
      pages.push(data);
      cursor = data.cursor;
    }
    const again = await sync(api, cursor, 10);

    expect(pages.map((p) => [p.messages.length, p.has_more])).toEqual([
      [10, true],
      [10, true],
      [5, false],
    ]);
    const all = pages.flatMap((p) => p.messages);
    expect(all.map((m) => m._id)).toEqual(sent);
    expect(all.map((m) => m.seq)).toEqual(range(1, 25));
    expect(again).toEqual({
      messages: [],
      reads: [],
      deletions: [],
      cursor: expect.any(String),
      has_more: false,
    });
    expect(await Message.countDocuments({ status: 'delivered' })).toBe(25);
    expect(eventsOf(events, 'messageDelivered')).toHaveLength(25);
  });

  it.each([
    ['since=abc', 'since=abc'],
    ['random base64', `since=${randomBytes(24).toString('base64url')}`],
    ['an array', 'since=a&since=b'],
    ['an empty since', 'since='],
    ['a bracketed since', 'since[$gt]=x'],
    ['a cursor with a bad id', `since=${Buffer.from('s1:123:zz').toString('base64url')}`],
    ['limit=0', 'limit=0'],
    ['limit=abc', 'limit=abc'],
  ])('answers 400 for %s and marks nothing delivered', async (_case, query) => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await sendAs(app, alice, conversationId, 'waiting');

    const res = await client(app, bob.token).get(`/sync?${query}`);

    expectFailure(res, 400, 'VALIDATION_FAILED');
    expect(await Message.countDocuments({ status: 'sent' })).toBe(1);
    expect(eventsOf(events, 'messageDelivered')).toEqual([]);
  });

  it("marks what it hands to a recipient delivered (not read) with one messageDelivered each, never the caller's own", async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const aliceApi = client(app, alice.token);
    const bobApi = client(app, bob.token);
    const [aliceCursor, bobCursor] = [await cursorNow(aliceApi), await cursorNow(bobApi)];
    const fromAlice = [
      await sendAs(app, alice, conversationId, 'a1'),
      await sendAs(app, alice, conversationId, 'a2'),
    ];
    const fromBob = await sendAs(app, bob, conversationId, 'b1');
    await settle();

    const aliceView = await sync(aliceApi, aliceCursor);
    const afterAlice = await Message.find({ conversation_id: conversationId })
      .sort({ seq: 1 })
      .lean();
    const bobView = await sync(bobApi, bobCursor);
    const afterBob = await Message.find({ conversation_id: conversationId })
      .sort({ seq: 1 })
      .lean();

    expect(aliceView.messages.map((m) => [m.text, m.status])).toEqual([
      ['a1', 'sent'],
      ['a2', 'sent'],
      ['b1', 'delivered'],
    ]);
    expect(afterAlice.map((m) => m.status)).toEqual(['sent', 'sent', 'delivered']);
    expect(bobView.messages.map((m) => [m.text, m.status])).toEqual([
      ['a1', 'delivered'],
      ['a2', 'delivered'],
      ['b1', 'delivered'],
    ]);
    expect(afterBob.map((m) => [m.status, m.is_read, m.read_at])).toEqual(
      Array(3).fill(['delivered', false, null]),
    );
    expect(afterBob.every((m) => m.delivered_at instanceof Date)).toBe(true);
    expect(
      eventsOf(events, 'messageDelivered').map((e) => ({
        id: e.messageId,
        sender: e.senderId,
        recipient: e.recipientId,
      })),
    ).toEqual([
      { id: fromBob._id, sender: bob.id, recipient: alice.id },
      { id: fromAlice[0]._id, sender: alice.id, recipient: bob.id },
      { id: fromAlice[1]._id, sender: alice.id, recipient: bob.id },
    ]);
  });

  it('never downgrades a message already read to delivered', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const api = client(app, bob.token);
    const cursor = await cursorNow(api);
    await sendAs(app, alice, conversationId, 'read before the resync');
    await api.get(`/conversations/${conversationId}/messages`);
    await settle();

    const data = await sync(api, cursor);

    expect(data.messages.map((m) => [m.status, m.is_read])).toEqual([['read', true]]);
    const stored = await Message.findOne({ conversation_id: conversationId }).lean();
    expect(stored).toMatchObject({ status: 'read', is_read: true, delivered_at: null });
    expect(eventsOf(events, 'messageDelivered')).toEqual([]);
  });
});
