import { Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { createConversation, createUsers, insertMessages, type TestUser } from '../factories';
import { client, eventsOf, expectFailure, messagesOf, type ApiClient } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const TOTAL = 250;
const SEQ_INDEX = 'conversation_id_1_seq_-1';
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** 250 messages, alternating alice (odd seqs) and bob (even seqs); bob reads. */
async function arrange(): Promise<{
  alice: TestUser;
  bob: TestUser;
  conversationId: string;
  ids: string[];
}> {
  const [alice, bob] = await createUsers(2);
  const conversationId = await createConversation([alice, bob]);
  const ids = await insertMessages(conversationId, [alice, bob], TOTAL);
  return { alice, bob, conversationId, ids };
}

async function page(api: ApiClient, conversationId: string, query: string): Promise<MessageView[]> {
  const res = await api.get(`/conversations/${conversationId}/messages${query}`);
  expect(res.status).toBe(200);
  return messagesOf(res);
}

const seqs = (messages: MessageView[]): number[] => messages.map((m) => m.seq);

interface PlanNode {
  stage?: string;
  indexName?: string;
  keyPattern?: Record<string, number>;
  inputStage?: PlanNode;
  inputStages?: PlanNode[];
  queryPlan?: PlanNode;
}
interface Explained {
  queryPlanner?: { winningPlan?: PlanNode };
  executionStats?: { nReturned: number; totalDocsExamined: number; totalKeysExamined: number };
}

function stagesOf(node: PlanNode | undefined): PlanNode[] {
  if (!node) return [];
  const children = [node.queryPlan, node.inputStage, ...(node.inputStages ?? [])];
  return [node, ...children.flatMap(stagesOf)];
}

/** The explain of the history query; null where the server has no query planner (the emulator). */
async function explainBefore(
  conversationId: string,
  before: number,
  limit: number,
): Promise<Explained | null> {
  try {
    const explained = (await Message.find({
      conversation_id: conversationId,
      deleted_at: null,
      seq: { $lt: before },
    })
      .sort({ seq: -1 })
      .limit(limit)
      .explain('executionStats')) as unknown as Explained;
    return explained.queryPlanner?.winningPlan ? explained : null;
  } catch (err) {
    if ((err as { code?: unknown }).code === 59) return null; // CommandNotFound: no explain at all
    throw err;
  }
}

describe('GET /api/chat/conversations/:id/messages with before / after', () => {
  it('returns, for before=200&limit=30, the 30 messages just below 200, oldest first', async () => {
    const { app } = buildTestApp();
    const { bob, conversationId } = await arrange();

    const messages = await page(client(app, bob.token), conversationId, '?before=200&limit=30');

    expect(seqs(messages)).toEqual(range(170, 199));
    expect(messages.map((m) => m.text)).toEqual(range(170, 199).map((n) => `message ${n}`));
  });

  it('returns, for after=100&limit=30, the 30 messages just above 100, oldest first', async () => {
    const { app } = buildTestApp();
    const { bob, conversationId } = await arrange();

    expect(seqs(await page(client(app, bob.token), conversationId, '?after=100&limit=30'))).toEqual(
      range(101, 130),
    );
  });

  it('walks every message exactly once and in order, backwards with before and forwards with after', async () => {
    const { app } = buildTestApp();
    const { bob, conversationId } = await arrange();
    const api = client(app, bob.token);

    const backwards: number[][] = [];
    for (let before = TOTAL + 1; ;) {
      const chunk = seqs(await page(api, conversationId, `?before=${before}&limit=30`));
      if (chunk.length === 0) break;
      backwards.unshift(chunk);
      before = chunk[0];
    }
    const forwards: number[] = [];
    for (let after = 0; ;) {
      const chunk = seqs(await page(api, conversationId, `?after=${after}&limit=30`));
      if (chunk.length === 0) break;
      forwards.push(...chunk);
      after = chunk[chunk.length - 1];
    }

    expect(backwards.flat()).toEqual(range(1, TOTAL));
    expect(backwards.map((c) => c.length)).toEqual([10, ...Array(8).fill(30)]);
    expect(forwards).toEqual(range(1, TOTAL));
  });

  it.each([30, 100, 7])(
    'returns at every depth the same page as the seed page/limit view (limit=%i)',
    async (limit) => {
      const { app } = buildTestApp();
      const { bob, conversationId } = await arrange();
      const api = client(app, bob.token);
      let previous = await page(api, conversationId, `?page=1&limit=${limit}`);

      for (let n = 2; previous.length === limit; n++) {
        const seedPage = await page(api, conversationId, `?page=${n}&limit=${limit}`);
        const cursorPage = await page(
          api,
          conversationId,
          `?before=${previous[0].seq}&limit=${limit}`,
        );
        expect(cursorPage).toEqual(seedPage);
        previous = seedPage;
      }
      expect(previous.length).toBe(TOTAL % limit);
    },
  );

  it('keeps a before page unchanged while new messages arrive, where page=2 shifts', async () => {
    const { app } = buildTestApp();
    const { alice, bob, conversationId } = await arrange();
    const api = client(app, bob.token);
    const newest = await page(api, conversationId, '?limit=30');
    const olderBefore = await page(api, conversationId, `?before=${newest[0].seq}&limit=30`);
    const seedPage2Before = await page(api, conversationId, '?page=2&limit=30');

    for (let i = 1; i <= 5; i++) {
      const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
        text: `late ${i}`,
      });
      expect(res.status).toBe(201);
    }
    const olderAfter = await page(api, conversationId, `?before=${newest[0].seq}&limit=30`);
    const seedPage2After = await page(api, conversationId, '?page=2&limit=30');

    expect(seqs(olderBefore)).toEqual(range(191, 220));
    expect(olderAfter).toEqual(olderBefore);
    expect(seqs(seedPage2Before)).toEqual(range(191, 220));
    expect(seqs(seedPage2After)).toEqual(range(196, 225));
    expect(seqs(await page(api, conversationId, `?after=${TOTAL}&limit=30`))).toEqual(
      range(251, 255),
    );
  });

  it('skips deleted messages and still fills the page from further along', async () => {
    const { app, events } = buildTestApp();
    const { alice, bob, conversationId, ids } = await arrange();
    for (const seq of [191, 195, 185]) {
      const res = await client(app, alice.token).delete(
        `/conversations/${conversationId}/messages/${ids[seq - 1]}`,
      );
      expect(res.status).toBe(200);
    }
    const api = client(app, bob.token);

    const below = seqs(await page(api, conversationId, '?before=200&limit=30'));
    const above = seqs(await page(api, conversationId, '?after=180&limit=30'));

    const live = (xs: number[]): number[] => xs.filter((s) => ![185, 191, 195].includes(s));
    expect(below).toEqual(live(range(167, 199)));
    expect(above).toEqual(live(range(181, 213)));
    expect(below).toHaveLength(30);
    expect(above).toHaveLength(30);
    expect(eventsOf(events, 'messageDeleted').map((e) => e.seq)).toEqual([191, 195, 185]);
  });

  it('gives the oldest messages for after=0 and nothing for before=1', async () => {
    const { app } = buildTestApp();
    const { bob, conversationId } = await arrange();
    const api = client(app, bob.token);

    expect(seqs(await page(api, conversationId, '?after=0&limit=30'))).toEqual(range(1, 30));
    expect(await page(api, conversationId, '?before=1&limit=30')).toEqual([]);
    expect(await page(api, conversationId, `?after=${TOTAL}`)).toEqual([]);
  });

  it('clamps limit to 100 on cursor pages and defaults it to 30', async () => {
    const { app } = buildTestApp();
    const { bob, conversationId } = await arrange();
    const api = client(app, bob.token);

    expect(seqs(await page(api, conversationId, '?before=251&limit=500'))).toEqual(range(151, 250));
    expect(seqs(await page(api, conversationId, '?after=0&limit=101'))).toEqual(range(1, 100));
    expect(seqs(await page(api, conversationId, '?before=100'))).toEqual(range(70, 99));
  });

  it.each([
    ['before and after together', '?before=100&after=50'],
    ['before=0', '?before=0'],
    ['after=-1', '?after=-1'],
    ['before=abc', '?before=abc'],
    ['after=abc', '?after=abc'],
    ['before=1.5', '?before=1.5'],
    ['before given twice', '?before=10&before=20'],
    ['a bracketed after', '?after[$gt]=5'],
  ])('answers 400 for %s and marks nothing read', async (_case, query) => {
    const { app, events } = buildTestApp();
    const { bob, conversationId } = await arrange();

    const res = await client(app, bob.token).get(
      `/conversations/${conversationId}/messages${query}`,
    );

    expectFailure(res, 400, 'VALIDATION_FAILED');
    expect(await Message.countDocuments({ is_read: true })).toBe(0);
    expect(events).toEqual([]);
  });

  it('serves a before page from the (conversation_id, seq) index, examining about `limit` documents at any depth', async () => {
    const { conversationId } = await arrange();

    const deep = await explainBefore(conversationId, 31, 30);
    const top = await explainBefore(conversationId, TOTAL + 1, 30);

    if (deep === null || top === null) {
      // The emulator has no query planner: at least the index the plan relies on must exist.
      const indexes = await Message.collection.indexes();
      expect(indexes).toContainEqual(
        expect.objectContaining({
          name: SEQ_INDEX,
          key: { conversation_id: 1, seq: -1 },
          unique: true,
        }),
      );
      return;
    }
    for (const explained of [deep, top]) {
      const scans = stagesOf(explained.queryPlanner?.winningPlan).filter(
        (s) => s.stage === 'IXSCAN',
      );
      expect(scans.map((s) => s.indexName)).toEqual([SEQ_INDEX]);
      expect(scans[0].keyPattern).toEqual({ conversation_id: 1, seq: -1 });
      expect(stagesOf(explained.queryPlanner?.winningPlan).map((s) => s.stage)).not.toContain(
        'SORT',
      );
      expect(explained.executionStats?.nReturned).toBe(30);
      expect(explained.executionStats?.totalDocsExamined).toBeLessThanOrEqual(30 + 2);
      expect(explained.executionStats?.totalKeysExamined).toBeLessThanOrEqual(30 + 2);
    }
  });
});
