/**
 * Benchmark 5: the conversation list with unread counts, for a user in 500
 * conversations that all have unread messages; requests/s of
 * GET /api/chat/conversations against a naive implementation (one
 * countDocuments per conversation) with the same page size.
 */
import { Agent } from 'node:http';
import { startProduct, startReference, type BenchContext } from './lib/context';
import { closedLoop, getJson, type HttpTarget, type HttpWindow } from './lib/http-load';
import { figure, type BenchOutcome } from './lib/report';
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

const DB = 'bench_list';
const CONVERSATIONS = 500;
const MESSAGES_EACH = 8;
/** The product's default page size; the naive list uses the same. */
const PAGE = 20;

/**
 * The user talks with 500 others; in each conversation they alternate, the
 * other side has read everything and the user has read 1–5 messages, so every
 * conversation has 1–3 unread messages.
 */
async function seedList(ctx: BenchContext): Promise<{ user: string; unreadOnPage: number }> {
  const seed = await openFreshDb(ctx.dbUri(DB));
  try {
    const [user, ...others] = await seedUsers(seed.db, CONVERSATIONS + 1, 'list');
    const now = Date.now();
    const conversations = [];
    const messages: Array<ReturnType<typeof messageDoc>> = [];
    const unread: number[] = [];
    for (let c = 0; c < CONVERSATIONS; c++) {
      const other = others[c];
      const draft = conversationDoc(user, other);
      const readSeq = 1 + (c % 5);
      const base = now - (c + 1) * 60_000;
      let last: SeededMessage | undefined;
      let count = 0;
      for (let seq = 1; seq <= MESSAGES_EACH; seq++) {
        const fromOther = seq % 2 === 1;
        const read = !fromOther || seq <= readSeq;
        if (fromOther && !read) count += 1;
        const message = messageDoc(
          draft._id,
          fromOther ? other : user,
          seq,
          new Date(base + seq * 1000),
          read,
        );
        messages.push(message);
        last = message;
      }
      unread.push(count);
      conversations.push(
        conversationDoc(user, other, {
          _id: draft._id,
          last,
          readSeq: { [user]: readSeq, [other]: MESSAGES_EACH },
          unread: { [user]: count, [other]: 0 },
        }),
      );
    }
    await insertBatched(seed.db, 'messages', messages);
    await insertBatched(seed.db, 'conversations', conversations);
    // Newest activity first: conversation 0 is the most recent.
    return { user, unreadOnPage: unread.slice(0, PAGE).reduce((a, b) => a + b, 0) };
  } finally {
    await seed.close();
  }
}

async function verify(target: HttpTarget, unreadOnPage: number): Promise<void> {
  const res = await getJson(new Agent({ keepAlive: false }), target);
  const body = JSON.parse(res.body) as { data?: Array<{ unread_count: number }> };
  const page = body.data ?? [];
  const total = page.reduce((s, c) => s + c.unread_count, 0);
  if (res.status !== 200 || page.length !== PAGE || total !== unreadOnPage) {
    throw new Error(
      `${target.name}: expected ${PAGE} conversations with ${unreadOnPage} unread, got ${res.status}, ${page.length} with ${total}`,
    );
  }
}

export async function runConversationList(ctx: BenchContext): Promise<BenchOutcome> {
  const { user, unreadOnPage } = await seedList(ctx);
  const product = await startProduct(ctx, 'product-list', DB);
  const naive = await startReference(ctx, 'naive-list', 'naive-list', DB);
  try {
    const headers = { authorization: `Bearer ${tokenFor(user, ctx.jwtSecret)}` };
    const targets: HttpTarget[] = [
      { name: 'product', url: `${product.url}/api/chat/conversations?limit=${PAGE}`, headers },
      { name: 'naive', url: `${naive.url}/api/chat/conversations?limit=${PAGE}`, headers },
    ];
    for (const t of targets) await verify(t, unreadOnPage);
    ctx.log(
      `5. conversation list: ${CONVERSATIONS} conversations, page of ${PAGE} with ${unreadOnPage} unread`,
    );
    const load = { concurrency: 4, maxRequests: 50_000 };
    for (const t of targets) await closedLoop(t, { ...load, durationMs: ctx.quick ? 300 : 2000 });
    const windows = new Map<string, HttpWindow[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < 2; round++) {
      for (const t of targets) {
        const w = await closedLoop(t, { ...load, durationMs: ctx.quick ? 1000 : 3000 });
        ctx.log(
          `  round ${round + 1} ${t.name.padEnd(8)} ${w.rps.toFixed(1)} req/s (p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, ${w.errors} errors)`,
        );
        windows.get(t.name)?.push(w);
      }
    }
    const rps = (name: string) => (windows.get(name) ?? []).map((w) => w.rps);
    const p = rps('product');
    const n = rps('naive');
    return {
      figures: [
        figure({
          bench: '5. conversation list',
          metric: `GET /conversations (${PAGE} of ${CONVERSATIONS}, unread counts)`,
          value: median(p),
          reference: median(n),
          referenceLabel: 'naive: count per conversation',
          unit: 'req/s',
          target: { op: '>=', ratio: 5 },
          roundRatios: p.map((v, i) => v / n[i]),
        }),
      ],
      details: { conversations: CONVERSATIONS, page: PAGE, windows: Object.fromEntries(windows) },
    };
  } finally {
    await Promise.all([product.stop(), naive.stop()]);
  }
}
