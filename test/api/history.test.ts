import { Types } from 'mongoose';
import { Message, User } from '../../models';
import { createConversation, createUser, createUsers, insertMessages } from '../factories';
import { client, expectFailure, ISO_DATE, messagesOf, type ApiClient } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function seqsOf(api: ApiClient, conversationId: string, query: string): Promise<number[]> {
  const res = await api.get(`/conversations/${conversationId}/messages${query}`);
  expect(res.status).toBe(200);
  return messagesOf(res).map((m) => m.seq);
}

describe('GET /api/chat/conversations/:id/messages', () => {
  it('returns page 1 as the newest `limit` messages and page 2 as the ones before, each oldest first', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice, bob], 75);
    const api = client(app, bob.token);

    expect(await seqsOf(api, conversationId, '?page=1&limit=30')).toEqual(range(46, 75));
    expect(await seqsOf(api, conversationId, '?page=2&limit=30')).toEqual(range(16, 45));
    expect(await seqsOf(api, conversationId, '?page=3&limit=30')).toEqual(range(1, 15));
    expect(await seqsOf(api, conversationId, '?page=4&limit=30')).toEqual([]);
  });

  it('returns messages in chronological order by sent_at as well as by seq', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 5);

    const res = await client(app, bob.token).get(`/conversations/${conversationId}/messages`);

    const sentAts = messagesOf(res).map((m) => Date.parse(m.sent_at));
    expect(sentAts).toEqual([...sentAts].sort((a, b) => a - b));
    expect(messagesOf(res).map((m) => m.text)).toEqual(range(1, 5).map((n) => `message ${n}`));
  });

  it('defaults to page 1 with a limit of 30', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 35);

    expect(await seqsOf(client(app, bob.token), conversationId, '')).toEqual(range(6, 35));
  });

  it('accepts limit=100 and clamps limit=101 to 100', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 120);
    const api = client(app, bob.token);

    expect(await seqsOf(api, conversationId, '?limit=100')).toEqual(range(21, 120));
    expect(await seqsOf(api, conversationId, '?limit=101')).toEqual(range(21, 120));
    expect(await seqsOf(api, conversationId, '?page=2&limit=101')).toEqual(range(1, 20));
  });

  it('returns the shorter last page and then [] beyond the end', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 7);
    const api = client(app, bob.token);

    expect(await seqsOf(api, conversationId, '?page=2&limit=5')).toEqual([1, 2]);
    expect(await seqsOf(api, conversationId, '?page=3&limit=5')).toEqual([]);
    expect(await seqsOf(api, conversationId, '?page=999999&limit=5')).toEqual([]);
  });

  it('returns [] for a conversation without messages', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);

    const res = await client(app, alice.token).get(`/conversations/${conversationId}/messages`);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: [] });
  });

  it('returns each message in the Horse Trust shape with the sender populated', async () => {
    const { app } = buildTestApp();
    const alice = await createUser({
      full_name: 'John Smith',
      profile_picture_url: 'https://cdn.example.com/john.jpg',
    });
    const bob = await createUser({ full_name: 'Jane Doe', profile_picture_url: null });
    const conversationId = await createConversation([alice, bob]);
    await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'Is this horse still available?',
    });
    await client(app, bob.token).post(`/conversations/${conversationId}/messages`, {
      text: 'Yes, Thunder is!',
    });

    const [fromAlice, fromBob] = messagesOf(
      await client(app, bob.token).get(`/conversations/${conversationId}/messages`),
    );

    expect(fromAlice).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      conversation_id: conversationId,
      sender_id: {
        _id: alice.id,
        full_name: 'John Smith',
        profile_picture_url: 'https://cdn.example.com/john.jpg',
      },
      text: 'Is this horse still available?',
      is_read: true,
      read_at: expect.stringMatching(ISO_DATE),
      sent_at: expect.stringMatching(ISO_DATE),
      seq: 1,
      status: 'read',
    });
    expect(fromBob).toMatchObject({
      sender_id: { _id: bob.id, full_name: 'Jane Doe', profile_picture_url: null },
      text: 'Yes, Thunder is!',
      is_read: false,
      read_at: null,
      seq: 2,
    });
  });

  it('still answers when a sender has since left the marketplace, with a placeholder profile', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 1);
    await User.deleteOne({ _id: alice.id });

    const res = await client(app, bob.token).get(`/conversations/${conversationId}/messages`);

    expect(res.status).toBe(200);
    expect(messagesOf(res)[0].sender_id).toEqual({
      _id: alice.id,
      full_name: expect.any(String),
      profile_picture_url: null,
    });
  });

  it('leaves soft-deleted messages out of every page', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const ids = await insertMessages(conversationId, [alice], 6);
    await Message.updateMany(
      { _id: { $in: [ids[2], ids[5]] } },
      { $set: { deleted_at: new Date() } },
    );
    const api = client(app, bob.token);

    expect(await seqsOf(api, conversationId, '?page=1&limit=2')).toEqual([4, 5]);
    expect(await seqsOf(api, conversationId, '?page=2&limit=2')).toEqual([1, 2]);
    expect(await seqsOf(api, conversationId, '?page=3&limit=2')).toEqual([]);
    expect(await seqsOf(api, conversationId, '')).toEqual([1, 2, 4, 5]);
  });

  it.each([
    ['page=0', '?page=0'],
    ['page=-1', '?page=-1'],
    ['page=abc', '?page=abc'],
    ['page=1.5', '?page=1.5'],
    ['page= (empty)', '?page='],
    ['limit=0', '?limit=0'],
    ['limit=abc', '?limit=abc'],
    ['limit=-10', '?limit=-10'],
    ['page=1e3', '?page=1e3'],
  ])('answers 400 for %s and marks nothing read', async (_case, query) => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 3);

    const res = await client(app, bob.token).get(
      `/conversations/${conversationId}/messages${query}`,
    );

    expectFailure(res, 400, 'VALIDATION_FAILED');
    expect(await Message.countDocuments({ is_read: true })).toBe(0);
    expect(events).toEqual([]);
  });

  it('answers 404 to a non-participant and marks nothing read', async () => {
    const { app } = buildTestApp();
    const [alice, bob, mallory] = await createUsers(3);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 3);

    const res = await client(app, mallory.token).get(`/conversations/${conversationId}/messages`);

    expectFailure(res, 404, 'CONVERSATION_NOT_FOUND');
    expect(await Message.countDocuments({ is_read: true })).toBe(0);
  });

  it('answers 404 for a conversation that does not exist and 400 for an invalid id', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();
    const api = client(app, alice.token);

    expectFailure(await api.get(`/conversations/${new Types.ObjectId().toString()}/messages`), 404);
    expectFailure(await api.get('/conversations/not-an-id/messages'), 400);
  });
});
