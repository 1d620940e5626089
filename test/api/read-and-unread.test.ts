import { Types } from 'mongoose';
import { Message } from '../../models';
import { createConversation, createUser, createUsers, insertMessages } from '../factories';
import {
  bodyOf,
  client,
  conversationOf,
  dataOf,
  eventsOf,
  expectFailure,
  ISO_DATE,
  type ApiClient,
} from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const unreadOf = async (api: ApiClient): Promise<number> =>
  bodyOf<{ unread_count: number }>(await api.get('/unread-count')).unread_count;

describe.each([['read'], ['mark-read']])('POST /api/chat/conversations/:id/%s', (action) => {
  it("marks everything read for the caller and leaves the other participant's count alone", async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [bob, alice], 5);
    const aliceApi = client(app, alice.token);
    const bobApi = client(app, bob.token);

    const res = await bobApi.post(`/conversations/${conversationId}/${action}`);

    expect(res.status).toBe(200);
    expect(dataOf<object>(res)).toEqual({
      conversation_id: conversationId,
      reader_id: bob.id,
      read_up_to_seq: 5,
      read_up_to_message_id: expect.stringMatching(/^[0-9a-f]{24}$/),
      read_at: expect.stringMatching(ISO_DATE),
      marked_count: 2,
    });
    const stored = await Message.find({ conversation_id: conversationId }).sort({ seq: 1 }).lean();
    expect(stored.map((m) => m.is_read)).toEqual([false, true, false, true, false]);
    expect(await unreadOf(bobApi)).toBe(0);
    expect(conversationOf(await bobApi.get(`/conversations/${conversationId}`)).unread_count).toBe(
      0,
    );
    expect(await unreadOf(aliceApi)).toBe(3);
    expect(
      conversationOf(await aliceApi.get(`/conversations/${conversationId}`)).unread_count,
    ).toBe(3);
    expect(eventsOf(events, 'messagesRead')).toEqual([
      expect.objectContaining({ readerId: bob.id, upToSeq: 5 }),
    ]);
  });

  it('takes a Karmyq {user_id} naming the caller, and refuses anyone else’s (403) or a malformed one (400)', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 2);
    const bobApi = client(app, bob.token);
    const path = `/conversations/${conversationId}/${action}`;

    expectFailure(await bobApi.post(path, { user_id: alice.id }), 403, 'FORBIDDEN');
    expectFailure(await bobApi.post(path, { user_id: { $ne: null } }), 400, 'VALIDATION_FAILED');
    expect(await unreadOf(bobApi)).toBe(2);
    expect(eventsOf(events, 'messagesRead')).toHaveLength(0);

    expect((await bobApi.post(path, { user_id: bob.id })).status).toBe(200);
    expect(await unreadOf(bobApi)).toBe(0);
  });

  it('is idempotent: a second call marks nothing and records no event', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 2);
    const bobApi = client(app, bob.token);

    await bobApi.post(`/conversations/${conversationId}/${action}`);
    const again = await bobApi.post(`/conversations/${conversationId}/${action}`);

    expect(again.status).toBe(200);
    expect(dataOf<{ marked_count: number }>(again).marked_count).toBe(0);
    expect(eventsOf(events, 'messagesRead')).toHaveLength(1);
    expect(await Message.countDocuments({ is_read: true })).toBe(2);
  });

  it('records one messagesRead event when the same reader marks read five times at once', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 3);
    const bobApi = client(app, bob.token);

    const responses = await Promise.all(
      Array.from({ length: 5 }, () => bobApi.post(`/conversations/${conversationId}/${action}`)),
    );

    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(responses.map((r) => dataOf<{ marked_count: number }>(r).marked_count).sort()).toEqual([
      0, 0, 0, 0, 3,
    ]);
    expect(eventsOf(events, 'messagesRead')).toHaveLength(1);
    expect(await Message.countDocuments({ is_read: true })).toBe(3);
  });

  it('answers 200 with nothing marked for a conversation without messages', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);

    const res = await client(app, bob.token).post(`/conversations/${conversationId}/${action}`);

    expect(res.status).toBe(200);
    expect(dataOf<object>(res)).toMatchObject({
      read_up_to_seq: 0,
      read_up_to_message_id: null,
      marked_count: 0,
    });
    expect(events).toEqual([]);
  });

  it('answers 404 to a non-participant and marks nothing', async () => {
    const { app } = buildTestApp();
    const [alice, bob, mallory] = await createUsers(3);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 2);

    const res = await client(app, mallory.token).post(`/conversations/${conversationId}/${action}`);

    expectFailure(res, 404, 'CONVERSATION_NOT_FOUND');
    expect(await Message.countDocuments({ is_read: true })).toBe(0);
  });

  it('answers 400 for an invalid conversation id', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();

    expectFailure(await client(app, alice.token).post(`/conversations/nope/${action}`), 400);
  });
});

describe('GET /api/chat/unread-count', () => {
  it('answers {success:true, unread_count: 0} for a user with nothing unread', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();

    const res = await client(app, alice.token).get('/unread-count');

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, unread_count: 0 });
  });

  it("sums other people's messages across all the caller's conversations, ignoring the caller's own", async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol, dave] = await createUsers(4);
    const withAlice = await createConversation([alice, bob]);
    const withCarol = await createConversation([carol, bob]);
    const withDave = await createConversation([bob, dave]);
    await insertMessages(withAlice, [alice], 2);
    await insertMessages(withCarol, [carol, bob], 5);
    await insertMessages(withDave, [bob], 4);

    const res = await client(app, bob.token).get('/unread-count');

    expect(res.body).toMatchObject({ success: true, unread_count: 5 });
    expect(await unreadOf(client(app, dave.token))).toBe(4);
    expect(await unreadOf(client(app, carol.token))).toBe(2);
  });

  it('counts each member of a group of three independently', async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const conversationId = await createConversation([alice, bob, carol]);
    await insertMessages(conversationId, [alice, alice, bob], 3);
    const [aliceApi, bobApi, carolApi] = [alice, bob, carol].map((u) => client(app, u.token));

    const before = [await unreadOf(aliceApi), await unreadOf(bobApi), await unreadOf(carolApi)];
    await carolApi.post(`/conversations/${conversationId}/read`);
    const afterCarolRead = [
      await unreadOf(aliceApi),
      await unreadOf(bobApi),
      await unreadOf(carolApi),
    ];
    await carolApi.post(`/conversations/${conversationId}/messages`, { text: 'hi both' });
    const afterCarolWrote = [
      await unreadOf(aliceApi),
      await unreadOf(bobApi),
      await unreadOf(carolApi),
    ];

    expect(before).toEqual([1, 2, 3]);
    expect(afterCarolRead).toEqual([1, 2, 0]);
    expect(afterCarolWrote).toEqual([2, 3, 0]);
    expect(conversationOf(await bobApi.get(`/conversations/${conversationId}`)).unread_count).toBe(
      3,
    );
  });

  it('excludes soft-deleted messages from the count', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const ids = await insertMessages(conversationId, [alice], 3);
    await Message.updateOne({ _id: ids[1] }, { $set: { deleted_at: new Date() } });
    const bobApi = client(app, bob.token);

    expect(await unreadOf(bobApi)).toBe(2);
    expect(conversationOf(await bobApi.get(`/conversations/${conversationId}`)).unread_count).toBe(
      2,
    );
  });

  it('no longer counts a conversation the caller has left', async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const conversationId = await createConversation([alice, bob, carol]);
    await insertMessages(conversationId, [alice], 2);
    const carolApi = client(app, carol.token);

    await carolApi.delete(`/conversations/${conversationId}/participants/${carol.id}`);

    expect(await unreadOf(carolApi)).toBe(0);
    expect(
      await Message.countDocuments({ conversation_id: new Types.ObjectId(conversationId) }),
    ).toBe(2);
  });
});
