/**
 * Benchmarks 1 and 2: send → deliver latency and CPU per message at a fixed
 * rate, then the highest sustainable rate, product against the floor relay.
 */
import { startProduct, startReference, type BenchContext } from './lib/context';
import { connectFloorArm, connectProductArm, seedPairs } from './lib/pairs';
import { openCollection } from './lib/seed';
import { figure, type BenchOutcome, type Figure } from './lib/report';
import {
  attachRecipients,
  describeWindow,
  runWindow,
  type SendArm,
  windowDetails,
  type WindowResult,
} from './lib/send-load';
import { cpuMs } from './lib/proc-stats';
import { closeAll } from './lib/sockets';
import { percentile } from './lib/stats';

export const PAIRS = 200;
/** Fixed send rate of benchmarks 1 and 6 (messages per second, all pairs together). */
export const RATE = 200;
const DB = 'bench_send';
const MAX_P99_MS = 100;
/**
 * Measured rounds per arm by default (`--rounds=N` to change), 2.5 s each. Short rounds:
 * within one run the floor's CPU per message moved by a third from round to round with
 * the shared machine's load, which fell on whichever arm was running; alternating often
 * spreads it over both. Twelve of them pool 6,000 messages per arm. A p99 is set by the
 * slowest 1 %: with 4,000 (8 rounds) four send-only runs in a row gave 1.23–1.68× while
 * their 16,000 messages pooled gave 1.38×, and one stalled round (14× its reference) was
 * enough to push benchmark 6 over its target. More rounds give a steadier p99 for a
 * longer run (README, Benchmarks).
 */
export const DEFAULT_SEND_ROUNDS = 12;
/** A brisk rate for warming up the server's and the database's hot paths. */
const WARM_RATE = 1000;

const pooled = (windows: WindowResult[]) => windows.flatMap((w) => w.latencies);
const cpuPerMsgUs = (windows: WindowResult[]) =>
  (windows.reduce((s, w) => s + w.serverCpuMs, 0) * 1000) /
  Math.max(
    1,
    windows.reduce((s, w) => s + w.sent, 0),
  );

/** Interleaved rounds A/B/A/B after one warm-up window per arm. */
export async function interleaved(
  ctx: BenchContext,
  arms: SendArm[],
  rate: number,
): Promise<Map<string, WindowResult[]>> {
  const windowMs = ctx.quick ? 1000 : 2500;
  // The second warm-up rate is the database's: the emulator (a JVM) JIT-compiles its
  // insert and update paths only after some ten seconds of load.
  const warmUps: Array<[number, number]> = [
    [rate, ctx.quick ? 1000 : 3000],
    [WARM_RATE, ctx.quick ? 2000 : 5000],
  ];
  for (const [warmRate, warmMs] of warmUps) {
    for (const arm of arms) {
      ctx.log(`  warm-up ${describeWindow(await runWindow(arm, warmRate, warmMs))}`);
    }
  }
  const results = new Map<string, WindowResult[]>(arms.map((a) => [a.name, []]));
  for (let round = 0; round < ctx.sendRounds; round++) {
    for (const arm of arms) {
      const w = await runWindow(arm, rate, windowMs);
      ctx.log(`  round ${round + 1} ${describeWindow(w)}`);
      results.get(arm.name)?.push(w);
    }
  }
  return results;
}

/** Figures comparing two arms' latency and CPU from interleaved windows. */
export function latencyFigures(
  bench: string,
  subject: WindowResult[],
  reference: WindowResult[],
  referenceLabel: string,
  targets: { p99: number; cpu: number | null },
): Figure[] {
  const rounds = (f: (w: WindowResult[]) => number) =>
    subject.map((w, i) => f([w]) / f([reference[i]]));
  const p = (q: number) => (ws: WindowResult[]) => percentile(pooled(ws), q);
  const lost = [...subject, ...reference].reduce((s, w) => s + w.lost + w.failedAcks, 0);
  const note = lost ? `${lost} messages lost or refused` : undefined;
  const figures = [
    figure({
      bench,
      metric: 'p50 latency',
      value: p(50)(subject),
      reference: p(50)(reference),
      referenceLabel,
      unit: 'ms',
      target: null,
      roundRatios: rounds(p(50)),
    }),
    figure({
      bench,
      metric: 'p99 latency',
      value: p(99)(subject),
      reference: p(99)(reference),
      referenceLabel,
      unit: 'ms',
      target: { op: '<=', ratio: targets.p99 },
      roundRatios: rounds(p(99)),
      note,
    }),
  ];
  figures.push(
    figure({
      bench,
      metric: 'server CPU per message',
      value: cpuPerMsgUs(subject),
      reference: cpuPerMsgUs(reference),
      referenceLabel,
      unit: 'µs',
      target: targets.cpu === null ? null : { op: '<=', ratio: targets.cpu },
      roundRatios: rounds(cpuPerMsgUs),
    }),
  );
  return figures;
}

/** CPU each process uses while nothing is sent, in % of a core. */
async function idleCpu(pids: number[], ms: number): Promise<number[]> {
  const before = pids.map(cpuMs);
  await new Promise((r) => setTimeout(r, ms));
  return pids.map((pid, i) => ((cpuMs(pid) - before[i]) / ms) * 100);
}

function sustainable(w: WindowResult): boolean {
  return (
    w.lost === 0 &&
    w.failedAcks === 0 &&
    percentile(w.latencies, 99) <= MAX_P99_MS &&
    w.achievedRate >= w.rate * 0.95
  );
}

/**
 * Steps the rate up ×1.5 until an arm fails twice in a row (p99 > 100 ms, a
 * loss, or the load generator cannot keep the rate), then bisects twice between
 * its last pass and first failure. Arms alternate at every step.
 */
async function maxRates(
  ctx: BenchContext,
  arms: SendArm[],
  between: () => Promise<void>,
): Promise<Map<string, number>> {
  const windowMs = ctx.quick ? 1500 : 2500;
  const state = new Map(arms.map((a) => [a.name, { pass: 0, fail: 0 }]));
  const settle = async () => {
    await between();
    await new Promise((r) => setTimeout(r, 500));
  };
  // A failure is retried once, so that one burst of noise from the shared machine
  // does not end an arm's ramp.
  const attempt = async (arm: SendArm, rate: number) => {
    for (let tries = 0; tries < 2; tries++) {
      const w = await runWindow(arm, rate, windowMs, 5000);
      const ok = sustainable(w);
      ctx.log(`  ${ok ? 'pass' : 'FAIL'} ${describeWindow(w)}`);
      await settle();
      if (ok) return true;
    }
    return false;
  };
  for (let rate = 300; rate <= 20_000; rate = Math.round(rate * 1.5)) {
    const open = arms.filter((a) => state.get(a.name)?.fail === 0);
    if (open.length === 0) break;
    for (const arm of open) {
      const s = state.get(arm.name);
      if (!s) continue;
      if (await attempt(arm, rate)) s.pass = rate;
      else s.fail = rate;
    }
  }
  for (let step = 0; step < 2; step++) {
    for (const arm of arms) {
      const s = state.get(arm.name);
      if (!s || s.fail === 0) continue;
      const mid = Math.round((s.pass + s.fail) / 2);
      if (await attempt(arm, mid)) s.pass = mid;
      else s.fail = mid;
    }
  }
  return new Map([...state].map(([name, s]) => [name, s.pass]));
}

export async function runSendDeliver(ctx: BenchContext): Promise<BenchOutcome> {
  const seed = await seedPairs(ctx, DB, PAIRS);
  const product = await startProduct(ctx, 'product', DB);
  const floor = await startReference(ctx, 'floor-relay', 'floor-relay', DB);
  const sockets = [];
  try {
    const p = await connectProductArm(
      ctx,
      'product',
      { sender: product.url, recipient: product.url },
      seed,
      [product.pid],
    );
    const f = await connectFloorArm(ctx, 'floor relay', floor.url, seed, floor.pid);
    sockets.push(...p.sockets, ...f.sockets);
    const arms = [p.arm, f.arm];
    arms.forEach(attachRecipients);

    ctx.log(
      `1. send → deliver: ${PAIRS} pairs (${PAIRS * 2} sockets per arm), ${RATE} msg/s, ${ctx.sendRounds} rounds`,
    );
    const idle = await idleCpu([product.pid, floor.pid], ctx.quick ? 1000 : 3000);
    ctx.log(
      `  idle CPU with the sockets connected: product ${idle[0].toFixed(1)}%, floor ${idle[1].toFixed(1)}%`,
    );
    const windows = await interleaved(ctx, arms, RATE);
    const figures = latencyFigures(
      '1. send → deliver',
      windows.get('product') ?? [],
      windows.get('floor relay') ?? [],
      'floor relay',
      { p99: 1.5, cpu: 2 },
    );

    ctx.log('2. max sustainable send rate (p99 ≤ 100 ms, nothing lost)');
    // The ramp stores some 200,000 messages. A real MongoDB would not notice, but
    // the emulator keeps them on its JVM heap, where they slowed every later write
    // (GC work grows with the heap), so each step starts from an empty collection.
    const messages = await openCollection(ctx.dbUri(DB), 'messages');
    const max = await maxRates(ctx, arms, async () => {
      await messages.collection.deleteMany({});
    }).finally(() => messages.close());
    const productMax = max.get('product') ?? 0;
    const floorMax = max.get('floor relay') ?? 0;
    figures.push(
      figure({
        bench: '2. max send rate',
        metric: 'sustainable msg/s',
        value: productMax,
        reference: floorMax,
        referenceLabel: 'floor relay',
        unit: 'msg/s',
        target: { op: '>=', ratio: 0.6 },
        roundRatios: [],
      }),
    );
    return {
      figures,
      details: {
        pairs: PAIRS,
        rate: RATE,
        windows: windowDetails(windows),
        maxRates: Object.fromEntries(max),
        idleCpuPercent: { product: idle[0], floor: idle[1] },
      },
    };
  } finally {
    closeAll(sockets);
    await Promise.all([product.stop(), floor.stop()]);
  }
}
