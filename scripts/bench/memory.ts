/**
 * Benchmark 3: memory per connection. Thousands of authenticated idle sockets,
 * each in its personal room; RSS per 1,000 sockets against bare Socket.IO with
 * the same connections. Each arm runs on a fresh server, A/B/A/B; RSS is read
 * after a full GC in both (lib/gc-hook.ts), and also without, for context.
 */
import { gcHookArgs, startProduct, startReference, type BenchContext } from './lib/context';
import type { ServerProcess } from './lib/processes';
import { rssKb } from './lib/proc-stats';
import { figure, type BenchOutcome } from './lib/report';
import { openFreshDb, seedUsers } from './lib/seed';
import { closeAll, connectMany, type BenchSocket } from './lib/sockets';
import { median } from './lib/stats';
import { tokenFor } from './lib/tokens';

const DB = 'bench_memory';
const WARM_UP = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RSS once the server has settled (median of a few samples), before and after a
 * full garbage collection (lib/gc-hook.ts).
 */
async function settledRss(pid: number): Promise<{ raw: number; afterGc: number }> {
  await sleep(1500);
  const samples = async () => {
    const kb: number[] = [];
    for (let i = 0; i < 5; i++) {
      kb.push(rssKb(pid));
      await sleep(100);
    }
    return median(kb);
  };
  const raw = await samples();
  process.kill(pid, 'SIGUSR2');
  await sleep(800);
  return { raw, afterGc: await samples() };
}

interface MemoryRound {
  arm: string;
  baselineMb: number;
  loadedMb: number;
  /** RSS growth per 1,000 sockets, both readings taken after a full GC. */
  perThousandMb: number;
  /** The same without the GCs (includes garbage from the connection burst). */
  perThousandRawMb: number;
  connectSeconds: number;
}

async function measure(
  arm: string,
  start: () => Promise<ServerProcess>,
  tokens: string[],
  sockets: number,
): Promise<MemoryRound> {
  const server = await start();
  const open: BenchSocket[] = [];
  try {
    open.push(...(await connectMany(server.url, tokens.slice(0, WARM_UP))));
    const baseline = await settledRss(server.pid);
    const t0 = performance.now();
    open.push(...(await connectMany(server.url, tokens.slice(WARM_UP, WARM_UP + sockets))));
    const connectSeconds = (performance.now() - t0) / 1000;
    const loaded = await settledRss(server.pid);
    const perThousand = (after: number, before: number) =>
      (after - before) / 1024 / (sockets / 1000);
    return {
      arm,
      baselineMb: baseline.afterGc / 1024,
      loadedMb: loaded.afterGc / 1024,
      perThousandMb: perThousand(loaded.afterGc, baseline.afterGc),
      perThousandRawMb: perThousand(loaded.raw, baseline.raw),
      connectSeconds,
    };
  } finally {
    closeAll(open);
    await server.stop();
  }
}

export async function runMemory(ctx: BenchContext): Promise<BenchOutcome> {
  const sockets = ctx.quick ? 1000 : 3000;
  const seed = await openFreshDb(ctx.dbUri(DB));
  const users = await seedUsers(seed.db, WARM_UP + sockets, 'idle');
  await seed.close();
  const tokens = users.map((id) => tokenFor(id, ctx.jwtSecret));
  const gc = gcHookArgs(ctx);
  const arms = {
    product: () => startProduct(ctx, 'product-memory', DB, {}, gc),
    'bare socket.io': () => startReference(ctx, 'bare-socketio', 'bare-socketio', DB, gc),
  };
  ctx.log(`3. memory: ${sockets} idle authenticated sockets (+${WARM_UP} warm-up) per server`);
  const rounds: MemoryRound[] = [];
  for (let round = 0; round < 2; round++) {
    for (const [arm, start] of Object.entries(arms)) {
      const r = await measure(arm, start, tokens, sockets);
      ctx.log(
        `  round ${round + 1} ${arm.padEnd(15)} RSS ${r.baselineMb.toFixed(1)} → ` +
          `${r.loadedMb.toFixed(1)} MB: ${r.perThousandMb.toFixed(2)} MB per 1,000 sockets after GC ` +
          `(${r.perThousandRawMb.toFixed(2)} before; connected in ${r.connectSeconds.toFixed(1)}s)`,
      );
      rounds.push(r);
    }
  }
  const of = (arm: string) => rounds.filter((r) => r.arm === arm).map((r) => r.perThousandMb);
  const product = of('product');
  const bare = of('bare socket.io');
  const raw = (arm: string) =>
    median(rounds.filter((r) => r.arm === arm).map((r) => r.perThousandRawMb));
  return {
    figures: [
      figure({
        bench: '3. memory per connection',
        metric: 'RSS per 1,000 idle sockets',
        value: median(product),
        reference: median(bare),
        referenceLabel: 'bare Socket.IO',
        unit: 'MB',
        target: { op: '<=', ratio: 1.3 },
        roundRatios: product.map((p, i) => p / bare[i]),
        note: 'after a full GC in both',
      }),
      figure({
        bench: '3. memory per connection',
        metric: 'same, without forcing a GC',
        value: raw('product'),
        reference: raw('bare socket.io'),
        referenceLabel: 'bare Socket.IO',
        unit: 'MB',
        target: null,
        roundRatios: [],
      }),
    ],
    details: { sockets, warmUp: WARM_UP, rounds },
  };
}
