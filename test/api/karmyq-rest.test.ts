import type { Express } from 'express';
import request, { type Response, type Test } from 'supertest';
import { Conversation, Message } from '../../models';
import type { KarmyqConversationView, KarmyqMessageView } from '../../src/chat/types';
import { createConversation, createUsers, insertMessages, type TestUser } from '../factories';
import { bodyOf, client, dataOf, eventsOf, expectFailure, ISO_DATE } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

/** Requests to Karmyq's /messages paths as one user. */
function karmyq(app: Express, token: string | null) {
  const auth = (t: Test): Test => (token ? t.set('Authorization', `Bearer ${token}`) : t);
  return {
    get: (path: string): Test => auth(request(app).get(`/messages${path}`)),
    post: (path: string, body?: object): Test => {
      const t = auth(request(app).post(`/messages${path}`));
      return body === undefined ? t : t.send(body);
    },
  };
}

interface KarmyqHistory {
  messages: KarmyqMessageView[];
  total: number;
}

const contentsOf = (res: Response): string[] =>
  dataOf<KarmyqHistory>(res).messages.map((m) => m.content);

const MATCH_ID = '3f1c2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f';

describe('Karmyq REST: POST /messages', () => {
  it('creates the conversation of a match in the Karmyq shape, the caller always a participant', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);

    const res = await karmyq(app, alice.token).post('', {
      request_match_id: MATCH_ID,
      participant_ids: [bob.id],
    });

    expect(res.status).toBe(201);
    expect(bodyOf<{ created: boolean }>(res).created).toBe(true);
    const view = dataOf<KarmyqConversationView>(res);
    expect(view).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      request_match_id: MATCH_ID,
      participants: expect.arrayContaining([
        { id: alice.id, name: alice.full_name, profile_picture_url: expect.any(String) },
        { id: bob.id, name: bob.full_name, profile_picture_url: expect.any(String) },
      ]),
      last_message: null,
      last_message_at: null,
      unread_count: 0,
      created_at: expect.stringMatching(ISO_DATE),
    });
    expect(view.participants).toHaveLength(2);
    const stored = await Conversation.findById(view.id).lean();
    expect(stored?.participants.map(String).sort()).toEqual([alice.id, bob.id].sort());
    expect(stored?.listing_id).toBe(MATCH_ID);
    expect(stored?.created_by.toString()).toBe(alice.id);
  });

  it('answers 200 with the same conversation when the match is opened again, from either side', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const first = await karmyq(app, alice.token).post('', {
      request_match_id: MATCH_ID,
      participant_ids: [alice.id, bob.id],
    });
    const again = await karmyq(app, bob.token).post('', {
      request_match_id: MATCH_ID,
      participant_ids: [alice.id, bob.id],
    });

    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(dataOf<KarmyqConversationView>(again).id).toBe(dataOf<KarmyqConversationView>(first).id);
    expect(await Conversation.countDocuments({})).toBe(1);
  });

  it('takes a 50-member group whose participant_ids list the caller too, and refuses a 51st', async () => {
    const { app } = buildTestApp();
    const users = await createUsers(51);
    const [caller] = users;
    const api = karmyq(app, caller.token);

    const group = await api.post('', { participant_ids: users.slice(0, 50).map((u) => u.id) });
    expect(group.status).toBe(201);
    expect(dataOf<KarmyqConversationView>(group).participants).toHaveLength(50);
    expectFailure(
      await api.post('', { participant_ids: users.slice(1, 51).map((u) => u.id) }),
      400,
      'VALIDATION_FAILED',
    );
    expect(await Conversation.countDocuments({})).toBe(1);
  });

  it('refuses bad input with a 4xx envelope and stores nothing', async () => {
    const { app } = buildTestApp();
    const [alice] = await createUsers(1);
    const api = karmyq(app, alice.token);

    expectFailure(await api.post('', { request_match_id: MATCH_ID }), 400, 'VALIDATION_FAILED');
    expectFailure(await api.post('', { participant_ids: ['not-an-id'] }), 400);
    expectFailure(await api.post('', { participant_ids: [{ $ne: null }] }), 400);
    expectFailure(await api.post('', { participant_ids: [alice.id] }), 400);
    expectFailure(
      await api.post('', { participant_ids: ['64b7f0c2a1b2c3d4e5f60718'] }),
      404,
      'USER_NOT_FOUND',
    );
    expectFailure(await api.post('', {}), 400, 'VALIDATION_FAILED');
    expectFailure(
      await api.post('', { participant_ids: [alice.id], request_match_id: { $ne: null } }),
      400,
      'VALIDATION_FAILED',
    );
    expectFailure(await karmyq(app, null).post('', { participant_ids: [alice.id] }), 401);
    expect(await Conversation.countDocuments({})).toBe(0);
  });
});

describe('Karmyq REST: GET /messages/conversations/:userId', () => {
  it("lists the caller's conversations with participants' names, the last message and unread counts", async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const withBob = await createConversation([alice, bob], {
      listing_id: MATCH_ID,
      last_activity_at: new Date(Date.now() - 60_000),
    });
    await insertMessages(withBob, [bob], 2, { textPrefix: 'from bob' });
    const notAlices = await createConversation([bob, carol]);

    const res = await karmyq(app, alice.token).get(`/conversations/${alice.id}`);

    expect(res.status).toBe(200);
    const list = dataOf<KarmyqConversationView[]>(res);
    expect(list.map((c) => c.id)).toEqual([withBob]);
    expect(list.map((c) => c.id)).not.toContain(notAlices);
    expect(list[0]).toMatchObject({
      request_match_id: MATCH_ID,
      last_message: {
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
        content: 'from bob 2',
        sender_id: bob.id,
        created_at: expect.stringMatching(ISO_DATE),
      },
      last_message_at: expect.stringMatching(ISO_DATE),
      unread_count: 2,
    });
    expect(list[0].participants.map((p) => p.name).sort()).toEqual(
      [alice.full_name, bob.full_name].sort(),
    );
    expect(bodyOf<{ pagination: object }>(res).pagination).toEqual({
      limit: 100,
      next_cursor: null,
      has_more: false,
    });
  });

  it("refuses another user's list (403) and a malformed id (400)", async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    await createConversation([alice, bob]);
    const api = karmyq(app, alice.token);

    const other = expectFailure(await api.get(`/conversations/${bob.id}`), 403, 'FORBIDDEN');
    expect(JSON.stringify(other)).not.toContain(bob.full_name);
    expectFailure(await api.get('/conversations/not-an-id'), 400, 'VALIDATION_FAILED');
    expectFailure(await api.get(`/conversations/${alice.id}?limit=0`), 400);
    expectFailure(await karmyq(app, null).get(`/conversations/${alice.id}`), 401);
  });
});

describe('Karmyq REST: GET /messages/:conversationId', () => {
  /**
   * `counted`: the conversation tracks its deletions (as every conversation created
   * now does), so pages are seq ranges and total is arithmetic; otherwise (older
   * documents) pages skip and total counts.
   */
  async function conversationWith(
    count: number,
    options: { counted?: boolean } = {},
  ): Promise<{
    app: Express;
    alice: TestUser;
    bob: TestUser;
    conversationId: string;
    ids: string[];
  }> {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    if (options.counted)
      await Conversation.updateOne({ _id: conversationId }, { deleted_count: 0 });
    const ids = await insertMessages(conversationId, [alice, bob], count);
    return { app, alice, bob, conversationId, ids };
  }

  it.each([
    ['seq ranges', true],
    ['skips', false],
  ])(
    'pages by offset from the newest, oldest first within a page, with the live total (%s)',
    async (_path, counted) => {
      const { app, alice, bob, conversationId } = await conversationWith(7, { counted });
      const api = karmyq(app, bob.token);

      const newest = await api.get(`/${conversationId}?limit=3`);
      expect(newest.status).toBe(200);
      expect(contentsOf(newest)).toEqual(['message 5', 'message 6', 'message 7']);
      expect(dataOf<KarmyqHistory>(newest).total).toBe(7);
      expect(dataOf<KarmyqHistory>(newest).messages[0]).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
        conversation_id: conversationId,
        sender_id: alice.id,
        sender_name: alice.full_name,
        content: 'message 5',
        status: 'read',
        created_at: expect.stringMatching(ISO_DATE),
        seq: 5,
      });
      expect(contentsOf(await api.get(`/${conversationId}?limit=3&offset=3`))).toEqual([
        'message 2',
        'message 3',
        'message 4',
      ]);
      expect(contentsOf(await api.get(`/${conversationId}?limit=3&offset=5`))).toEqual([
        'message 1',
        'message 2',
      ]);
      const beyond = await api.get(`/${conversationId}?offset=7`);
      expect(dataOf<KarmyqHistory>(beyond)).toEqual({ messages: [], total: 7 });
      expect(contentsOf(await api.get(`/${conversationId}`))).toHaveLength(7);
    },
  );

  it.each([
    ['deletions tracked', true],
    ['an older conversation', false],
  ])('skips deleted messages in pages and total (%s)', async (_path, counted) => {
    const { app, alice, conversationId, ids } = await conversationWith(5, { counted });
    // message 3 (index 2) was sent by alice: she deletes it.
    const deleted = await client(app, alice.token).delete(
      `/conversations/${conversationId}/messages/${ids[2]}`,
    );
    expect(deleted.status).toBe(200);

    const res = await karmyq(app, alice.token).get(`/${conversationId}?limit=2&offset=1`);

    expect(contentsOf(res)).toEqual(['message 2', 'message 4']);
    expect(dataOf<KarmyqHistory>(res).total).toBe(4);
  });

  it("marks the other participant's fetched messages read, as every history fetch does", async () => {
    const { app, alice, bob, conversationId } = await conversationWith(4);

    const res = await karmyq(app, bob.token).get(`/${conversationId}?limit=2&offset=2`);

    expect(res.status).toBe(200);
    const stored = await Message.find({ conversation_id: conversationId }).sort({ seq: 1 }).lean();
    // bob read up to seq 2: alice's seq 1 is read; his own and the newer ones are not.
    expect(stored.map((m) => [m.sender_id.toString(), m.is_read])).toEqual([
      [alice.id, true],
      [bob.id, false],
      [alice.id, false],
      [bob.id, false],
    ]);
  });

  it('refuses non-participants (404, nothing marked) and bad paging (400)', async () => {
    const { app, alice, conversationId } = await conversationWith(3);
    const [outsider] = await createUsers(1);

    expectFailure(
      await karmyq(app, outsider.token).get(`/${conversationId}`),
      404,
      'CONVERSATION_NOT_FOUND',
    );
    expect(await Message.countDocuments({ is_read: true })).toBe(0);
    const api = karmyq(app, alice.token);
    expectFailure(await api.get(`/${conversationId}?offset=-1`), 400, 'VALIDATION_FAILED');
    expectFailure(await api.get(`/${conversationId}?limit=abc`), 400, 'VALIDATION_FAILED');
    expectFailure(await api.get(`/${conversationId}?offset[$gt]=1`), 400, 'VALIDATION_FAILED');
    expectFailure(await api.get('/not-an-id'), 400, 'VALIDATION_FAILED');
    expectFailure(await api.get(`/${conversationId}?offset=99999999999`), 400);
    expectFailure(await api.get(`/${conversationId}?offset=1&offset=2`), 400);
    expectFailure(await api.get(`/${conversationId}/mark-read`), 404);
    const minusZero = await api.get(`/${conversationId}?offset=-0`);
    expect(contentsOf(minusZero)).toHaveLength(3);
    const clamped = await api.get(`/${conversationId}?limit=500`);
    expect(clamped.status).toBe(200);
    expect(contentsOf(clamped)).toHaveLength(3);
  });
});

describe('Karmyq REST: POST /messages/:conversationId/mark-read', () => {
  it('marks everything read for the caller named in user_id, and refuses anyone else’s', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 3);
    const api = karmyq(app, bob.token);

    expectFailure(await api.post(`/${conversationId}/mark-read`, { user_id: alice.id }), 403);
    expect(await Message.countDocuments({ is_read: true })).toBe(0);
    expect(eventsOf(events, 'messagesRead')).toHaveLength(0);

    const res = await api.post(`/${conversationId}/mark-read`, { user_id: bob.id });

    expect(res.status).toBe(200);
    expect(dataOf<object>(res)).toMatchObject({
      conversation_id: conversationId,
      reader_id: bob.id,
      read_up_to_seq: 3,
      marked_count: 3,
    });
    expect(await Message.countDocuments({ conversation_id: conversationId, is_read: true })).toBe(
      3,
    );
    expect(eventsOf(events, 'messagesRead')).toEqual([
      expect.objectContaining({ readerId: bob.id, upToSeq: 3 }),
    ]);
  });

  it('takes user_id null as absent: the caller reads', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 2);

    const res = await karmyq(app, bob.token).post(`/${conversationId}/mark-read`, {
      user_id: null,
    });

    expect(res.status).toBe(200);
    expect(dataOf<object>(res)).toMatchObject({ reader_id: bob.id, marked_count: 2 });
    expect(await Message.countDocuments({ conversation_id: conversationId, is_read: true })).toBe(
      2,
    );
  });
});
