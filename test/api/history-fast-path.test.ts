import { Conversation, Message } from '../../models';
import { createConversation, createUsers, insertMessages, type TestUser } from '../factories';
import { client, conversationOf, messagesOf, type ApiClient } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function seqsOf(api: ApiClient, conversationId: string, query: string): Promise<number[]> {
  const res = await api.get(`/conversations/${conversationId}/messages${query}`);
  expect(res.status).toBe(200);
  return messagesOf(res).map((m) => m.seq);
}

/** Every page of a conversation at `limit`, until the first empty one. */
async function allPages(api: ApiClient, conversationId: string, limit: number) {
  const pages: number[][] = [];
  for (let page = 1; page < 100; page++) {
    const seqs = await seqsOf(api, conversationId, `?page=${page}&limit=${limit}`);
    pages.push(seqs);
    if (seqs.length === 0) break;
  }
  return pages;
}

/**
 * Twin conversations with the same messages: one created by the service (its
 * deletions counted from the start: seq-range pages), one stored as before
 * deleted_count existed (skip pages).
 */
async function twins(count: number) {
  const { app } = buildTestApp();
  const [alice, bob] = await createUsers(2);
  const created = await client(app, alice.token)
    .post('/conversations')
    .send({ recipient_id: bob.id });
  const counted = conversationOf(created)._id;
  const legacy = await createConversation([alice, bob], { listing_id: 'legacy' });
  await insertMessages(counted, [alice, bob], count);
  await insertMessages(legacy, [alice, bob], count);
  return { app, alice, bob, counted, legacy };
}

/** The filters of the history queries a request runs. */
function recordFinds(): { filters: Array<Record<string, unknown>>; restore(): void } {
  const filters: Array<Record<string, unknown>> = [];
  const original = Message.collection.find.bind(Message.collection);
  const spy = jest.spyOn(Message.collection, 'find').mockImplementation(((
    filter: Record<string, unknown>,
    options?: object,
  ) => {
    filters.push(filter);
    return original(filter, options);
  }) as typeof Message.collection.find);
  return { filters, restore: () => spy.mockRestore() };
}

describe('history pages as seq ranges (conversations without deletions)', () => {
  it('stores deleted_count 0 on conversations the service creates, and none on older ones', async () => {
    const { counted, legacy } = await twins(1);

    expect((await Conversation.findById(counted).lean())?.deleted_count).toBe(0);
    expect((await Conversation.findById(legacy).lean())?.deleted_count).toBeUndefined();
  });

  it.each([30, 7, 100])(
    'gives every page at limit=%i exactly as the skip path does',
    async (limit) => {
      const { app, bob, counted, legacy } = await twins(250);
      const api = client(app, bob.token);

      const fast = await allPages(api, counted, limit);
      const skipped = await allPages(api, legacy, limit);

      expect(fast).toEqual(skipped);
      expect(fast[0]).toEqual(range(251 - limit, 250));
      expect(fast.flat().sort((a, b) => a - b)).toEqual(range(1, 250));
    },
  );

  it('reads a deep page as a seq range, never skipping', async () => {
    const { app, bob, counted } = await twins(250);
    const finds = recordFinds();
    try {
      expect(await seqsOf(client(app, bob.token), counted, '?page=8&limit=30')).toEqual(
        range(11, 40),
      );
      expect(await seqsOf(client(app, bob.token), counted, '?page=5&limit=30')).toEqual(
        range(101, 130),
      );
    } finally {
      finds.restore();
    }
    const history = finds.filters.filter((f) => f.deleted_at === null);
    expect(history).toHaveLength(2);
    for (const filter of history)
      expect(filter.seq).toEqual({ $gte: expect.any(Number), $lte: expect.any(Number) });
  });

  it('finds the newest page while last_seq lags behind sends between their insert and last_message update', async () => {
    const { app, bob, counted } = await twins(40);
    await Conversation.updateOne({ _id: counted }, { $set: { last_seq: 37 } });

    expect(await seqsOf(client(app, bob.token), counted, '?page=1&limit=30')).toEqual(
      range(11, 40),
    );
    expect(await seqsOf(client(app, bob.token), counted, '?page=2&limit=30')).toEqual(range(1, 10));
  });

  it('falls back to skipping once a message is deleted, giving the same pages as before the fix', async () => {
    const { app, alice, bob, counted, legacy } = await twins(10);
    const deleteSeq9 = async (conversationId: string) => {
      const message = await Message.findOne({ conversation_id: conversationId, seq: 9 }).lean();
      const sender: TestUser = message?.sender_id.toString() === alice.id ? alice : bob;
      const res = await client(app, sender.token).delete(
        `/conversations/${conversationId}/messages/${message?._id.toString()}`,
      );
      expect(res.status).toBe(200);
    };
    await deleteSeq9(counted);
    await deleteSeq9(legacy);
    const api = client(app, bob.token);

    expect((await Conversation.findById(counted).lean())?.deleted_count).toBe(1);
    const expected = [[7, 8, 10], [4, 5, 6], [1, 2, 3], []];
    expect(await allPages(api, counted, 3)).toEqual(expected);
    expect(await allPages(api, legacy, 3)).toEqual(expected);
  });

  it('falls back to skipping when a page range comes back short (a deletion nobody counted)', async () => {
    const { app, bob, counted } = await twins(6);
    await Message.updateOne(
      { conversation_id: counted, seq: 6 },
      { $set: { deleted_at: new Date() } },
    );

    expect(await seqsOf(client(app, bob.token), counted, '?page=1&limit=2')).toEqual([4, 5]);
  });

  it('answers before= cursors beyond the newest message and inside deletions like an open range', async () => {
    const { app, alice, bob, counted } = await twins(50);
    const message = await Message.findOne({ conversation_id: counted, seq: 45 }).lean();
    const sender = message?.sender_id.toString() === alice.id ? alice : bob;
    await client(app, sender.token).delete(
      `/conversations/${counted}/messages/${message?._id.toString()}`,
    );
    const api = client(app, bob.token);

    expect(await seqsOf(api, counted, '?before=1000&limit=5')).toEqual([46, 47, 48, 49, 50]);
    expect(await seqsOf(api, counted, '?before=48&limit=5')).toEqual([42, 43, 44, 46, 47]);
  });
});
