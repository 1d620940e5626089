import { Conversation } from '../../models';
import { createConversation, createUser, createUsers, type TestUser } from '../factories';
import {
  bodyOf,
  client,
  expectFailure,
  ISO_DATE,
  type ApiClient,
  type ConversationListEnvelope,
} from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const minutesAgo = (n: number): Date => new Date(Date.now() - n * 60_000);

/** Follows next_cursor from the first page to the end; returns every page's ids. */
async function allPages(api: ApiClient, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor
      ? `?limit=${limit}&cursor=${encodeURIComponent(cursor)}`
      : `?limit=${limit}`;
    const res = await api.get(`/conversations${query}`);
    expect(res.status).toBe(200);
    const body = bodyOf<ConversationListEnvelope>(res);
    pages.push(body.data.map((c) => c._id));
    expect(body.pagination.has_more).toBe(body.pagination.next_cursor !== null);
    cursor = body.pagination.next_cursor;
    if (pages.length > 20) throw new Error('pagination does not terminate');
  } while (cursor);
  return pages;
}

async function conversationsWith(alice: TestUser, ages: number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const age of ages) {
    const other = await createUser();
    ids.push(await createConversation([alice, other], { last_activity_at: minutesAgo(age) }));
  }
  return ids;
}

describe('GET /api/chat/conversations', () => {
  it('lists the most recently active conversation first, moving one up when a message arrives', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();
    const [oldest, middle, newest] = await conversationsWith(alice, [30, 20, 10]);
    const api = client(app, alice.token);

    const before = bodyOf<ConversationListEnvelope>(await api.get('/conversations'));
    await api.post(`/conversations/${oldest}/messages`, { text: 'bump' });
    const after = bodyOf<ConversationListEnvelope>(await api.get('/conversations'));

    expect(before.data.map((c) => c._id)).toEqual([newest, middle, oldest]);
    expect(after.data.map((c) => c._id)).toEqual([oldest, newest, middle]);
  });

  it("populates participants, last_message and the caller's own unread_count", async () => {
    const { app } = buildTestApp();
    const alice = await createUser({
      full_name: 'Alice',
      profile_picture_url: 'https://cdn.example.com/alice.jpg',
    });
    const bob = await createUser({ full_name: 'Bob', profile_picture_url: null });
    const conversationId = await createConversation([alice, bob]);
    await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'first',
    });
    await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'second',
    });

    const forBob = bodyOf<ConversationListEnvelope>(
      await client(app, bob.token).get('/conversations'),
    );
    const forAlice = bodyOf<ConversationListEnvelope>(
      await client(app, alice.token).get('/conversations'),
    );

    expect(forBob.success).toBe(true);
    expect(forBob.data).toHaveLength(1);
    const [view] = forBob.data;
    expect(view.participants).toEqual(
      expect.arrayContaining([
        {
          _id: alice.id,
          full_name: 'Alice',
          profile_picture_url: 'https://cdn.example.com/alice.jpg',
        },
        { _id: bob.id, full_name: 'Bob', profile_picture_url: null },
      ]),
    );
    expect(view.last_message).toEqual({
      message_id: expect.stringMatching(/^[0-9a-f]{24}$/),
      text: 'second',
      sender_id: alice.id,
      sent_at: expect.stringMatching(ISO_DATE),
      is_read: false,
      seq: 2,
    });
    expect(view.unread_count).toBe(2);
    expect(forAlice.data[0].unread_count).toBe(0);
    const stored = await Conversation.findById(conversationId).lean();
    expect(stored?.last_message?.message_id.toString()).toBe(view.last_message?.message_id);
  });

  it("returns only the caller's conversations", async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol, dave] = await createUsers(4);
    const mine = await createConversation([alice, bob]);
    const group = await createConversation([carol, alice, dave]);
    await createConversation([carol, dave]);

    const body = bodyOf<ConversationListEnvelope>(
      await client(app, alice.token).get('/conversations'),
    );

    expect(body.data.map((c) => c._id).sort()).toEqual([mine, group].sort());
  });

  it('returns an empty page with no cursor for a user without conversations', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();

    const res = await client(app, alice.token).get('/conversations');

    expect(res.status).toBe(200);
    expect(bodyOf<ConversationListEnvelope>(res)).toEqual({
      success: true,
      data: [],
      pagination: { limit: 20, next_cursor: null, has_more: false },
    });
  });

  it('pages with limit and next_cursor until exhausted, without duplicates or gaps', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();
    const ids = await conversationsWith(alice, [50, 40, 30, 20, 10, 5, 1]);

    const pages = await allPages(client(app, alice.token), 3);

    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([...ids].reverse());
  });

  it('keeps pagination exact when several conversations share the same activity time', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();
    const sameInstant = minutesAgo(5);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        await createConversation([alice, await createUser()], { last_activity_at: sameInstant }),
      );

    const pages = await allPages(client(app, alice.token), 2);

    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(new Set(pages.flat()).size).toBe(5);
    expect(pages.flat().sort()).toEqual([...ids].sort());
  });

  it('reports no next page when the last page is exactly full', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();
    await conversationsWith(alice, [3, 2, 1]);

    const body = bodyOf<ConversationListEnvelope>(
      await client(app, alice.token).get('/conversations?limit=3'),
    );

    expect(body.data).toHaveLength(3);
    expect(body.pagination).toEqual({ limit: 3, next_cursor: null, has_more: false });
  });

  it('clamps limit to 100', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();

    const body = bodyOf<ConversationListEnvelope>(
      await client(app, alice.token).get('/conversations?limit=500'),
    );

    expect(body.pagination.limit).toBe(100);
  });

  it.each([
    ['a cursor this API never issued', '?cursor=garbage'],
    [
      'a base64 cursor with the wrong content',
      `?cursor=${Buffer.from('hello:world').toString('base64url')}`,
    ],
    ['an empty cursor', '?cursor='],
    ['a repeated cursor', '?cursor=a&cursor=b'],
    ['limit=0', '?limit=0'],
    ['limit=abc', '?limit=abc'],
    ['limit=-5', '?limit=-5'],
  ])('answers 400 for %s', async (_case, query) => {
    const { app } = buildTestApp();
    const alice = await createUser();
    await conversationsWith(alice, [1]);

    const res = await client(app, alice.token).get(`/conversations${query}`);

    expectFailure(res, 400, 'VALIDATION_FAILED');
  });
});
