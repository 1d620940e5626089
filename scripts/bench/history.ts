/**
 * Benchmark 4: history pages of a 100,000-message conversation. Requests/s for
 * a 30-message page at the newest end and deep near the oldest, through the
 * seed's ?page=N and the ?before=<seq> cursor, against a minimal Express route
 * running the same single query with the raw driver.
 */
import { startProduct, startReference, type BenchContext } from './lib/context';
import { closedLoop, getJson, type HttpTarget, type HttpWindow } from './lib/http-load';
import { figure, type BenchOutcome, type Figure } from './lib/report';
import {
  conversationDoc,
  insertBatched,
  messageDoc,
  openFreshDb,
  seedUsers,
  type SeededMessage,
} from './lib/seed';
import { median } from './lib/stats';
import { tokenFor } from './lib/tokens';
import { Agent } from 'node:http';

const DB = 'bench_history';
const TOTAL = 100_000;
const LIMIT = 30;
/** Deep page: seqs 1001..1030 of 100,000. */
const DEEP_PAGE = (TOTAL - 1000) / LIMIT;
const DEEP_BEFORE = 1000 + LIMIT + 1;
/**
 * Interleaved rounds per target. One 3-second window moved by ±15% with the shared
 * machine (two windows of the same query in one round differed that much); the
 * figures are medians over the rounds.
 */
const ROUNDS = 3;

async function seedConversation(
  ctx: BenchContext,
): Promise<{ conversationId: string; reader: string }> {
  const seed = await openFreshDb(ctx.dbUri(DB));
  try {
    const [alice, bob] = await seedUsers(seed.db, 2, 'history');
    const conversation = conversationDoc(alice, bob);
    const start = Date.now() - TOTAL * 1000;
    let last: SeededMessage | undefined;
    for (let from = 1; from <= TOTAL; from += 10_000) {
      const docs = Array.from({ length: Math.min(10_000, TOTAL - from + 1) }, (_, i) => {
        const seq = from + i;
        return messageDoc(
          conversation._id,
          seq % 2 ? alice : bob,
          seq,
          new Date(start + seq * 1000),
          true,
        );
      });
      await insertBatched(seed.db, 'messages', docs);
      last = docs[docs.length - 1];
    }
    // Both members have read everything: fetching pages writes nothing.
    const stored = conversationDoc(alice, bob, {
      _id: conversation._id,
      last,
      readSeq: { [alice]: TOTAL, [bob]: TOTAL },
    });
    await seed.db.collection('conversations').insertOne(stored);
    return { conversationId: conversation._id.toHexString(), reader: bob };
  } finally {
    await seed.close();
  }
}

/** Fails loudly if a target does not answer the expected page. */
async function verify(target: HttpTarget, firstSeq: number): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  const res = await getJson(agent, target);
  const body = JSON.parse(res.body) as { data?: Array<{ seq: number }> };
  const seqs = body.data?.map((m) => m.seq) ?? [];
  const expected = Array.from({ length: LIMIT }, (_, i) => firstSeq + i);
  if (res.status !== 200 || JSON.stringify(seqs) !== JSON.stringify(expected)) {
    throw new Error(
      `${target.name}: expected seqs ${firstSeq}..${firstSeq + LIMIT - 1}, got ${res.status} ${seqs.slice(0, 3).join(',')}…`,
    );
  }
}

export async function runHistory(ctx: BenchContext): Promise<BenchOutcome> {
  const t0 = performance.now();
  const { conversationId, reader } = await seedConversation(ctx);
  ctx.log(
    `4. history: seeded ${TOTAL} messages in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );
  const product = await startProduct(ctx, 'product-history', DB);
  const raw = await startReference(ctx, 'raw-history', 'raw-history', DB);
  try {
    const headers = { authorization: `Bearer ${tokenFor(reader, ctx.jwtSecret)}` };
    const api = `${product.url}/api/chat/conversations/${conversationId}/messages`;
    const rawUrl = `${raw.url}/history/${conversationId}`;
    const shallowFirst = TOTAL - LIMIT + 1;
    const deepFirst = DEEP_BEFORE - LIMIT;
    const targets: Array<HttpTarget & { first: number }> = [
      { name: 'page shallow', url: `${api}?page=1&limit=${LIMIT}`, headers, first: shallowFirst },
      {
        name: 'page deep',
        url: `${api}?page=${DEEP_PAGE}&limit=${LIMIT}`,
        headers,
        first: deepFirst,
      },
      {
        name: 'cursor shallow',
        url: `${api}?before=${TOTAL + 1}&limit=${LIMIT}`,
        headers,
        first: shallowFirst,
      },
      {
        name: 'cursor deep',
        url: `${api}?before=${DEEP_BEFORE}&limit=${LIMIT}`,
        headers,
        first: deepFirst,
      },
      {
        name: 'raw shallow',
        url: `${rawUrl}?before=${TOTAL + 1}&limit=${LIMIT}`,
        first: shallowFirst,
      },
      { name: 'raw deep', url: `${rawUrl}?before=${DEEP_BEFORE}&limit=${LIMIT}`, first: deepFirst },
    ];
    for (const t of targets) await verify(t, t.first);

    const windowMs = ctx.quick ? 1000 : 3000;
    const load = { concurrency: 4, maxRequests: 20_000 };
    for (const t of targets) await closedLoop(t, { ...load, durationMs: ctx.quick ? 300 : 1000 });
    const windows = new Map<string, HttpWindow[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        const w = await closedLoop(t, { ...load, durationMs: windowMs });
        ctx.log(
          `  round ${round + 1} ${t.name.padEnd(15)} ${w.rps.toFixed(1)} req/s (p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, ${w.errors} errors)`,
        );
        windows.get(t.name)?.push(w);
      }
    }
    const rps = (name: string) => (windows.get(name) ?? []).map((w) => w.rps);
    const compare = (
      metric: string,
      a: string,
      b: string,
      label: string,
      target: number,
    ): Figure => {
      const av = rps(a);
      const bv = rps(b);
      return figure({
        bench: '4. history',
        metric,
        value: median(av),
        reference: median(bv),
        referenceLabel: label,
        unit: 'req/s',
        target: { op: '>=', ratio: target },
        roundRatios: av.map((v, i) => v / bv[i]),
      });
    };
    return {
      figures: [
        compare('?page deep / shallow', 'page deep', 'page shallow', 'product, page 1', 0.8),
        compare('?before deep / shallow', 'cursor deep', 'cursor shallow', 'product, newest', 0.8),
        compare('?page=1 vs raw query', 'page shallow', 'raw shallow', 'raw driver route', 0.6),
        compare(
          `?page=${DEEP_PAGE} vs raw query`,
          'page deep',
          'raw deep',
          'raw driver route',
          0.6,
        ),
        compare(
          '?before newest vs raw query',
          'cursor shallow',
          'raw shallow',
          'raw driver route',
          0.6,
        ),
        compare('?before deep vs raw query', 'cursor deep', 'raw deep', 'raw driver route', 0.6),
      ],
      details: {
        messages: TOTAL,
        limit: LIMIT,
        deepPage: DEEP_PAGE,
        windows: Object.fromEntries(windows),
      },
    };
  } finally {
    await Promise.all([product.stop(), raw.stop()]);
  }
}
