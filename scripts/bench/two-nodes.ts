/**
 * Benchmark 6: two nodes on one Redis. Cross-node send → deliver (sender on
 * node A, recipient on node B) at benchmark 1's rate, against a single node
 * (in-memory adapter) on the same database, interleaved.
 */
import { startProduct, type BenchContext } from './lib/context';
import { connectProductArm, seedPairs, splitPairs } from './lib/pairs';
import type { BenchOutcome } from './lib/report';
import { attachRecipients, windowDetails } from './lib/send-load';
import { closeAll, type BenchSocket } from './lib/sockets';
import { interleaved, latencyFigures, PAIRS, RATE } from './send-deliver';

const DB = 'bench_nodes';

export async function runTwoNodes(ctx: BenchContext): Promise<BenchOutcome> {
  const redisUrl = await ctx.redisUrl();
  if (!redisUrl) throw new Error('no Redis: install redis-server or set REDIS_URL');
  // Each arm gets its own users and conversations. Shared ones made each arm's first
  // send per conversation after a switch collide on the seq index (the other
  // deployment's sends had moved last_seq past its cached hint) and fall back to a
  // newest-seq query, which on the emulator scans every stored message: p99 grew to
  // hundreds of ms, round after round, in both arms. Benchmark 1 does the same (the
  // floor relay has its own conversation ids).
  const [twoSeed, oneSeed] = splitPairs(await seedPairs(ctx, DB, PAIRS * 2), 2);
  const single = await startProduct(ctx, 'product-single', DB);
  const nodeA = await startProduct(ctx, 'product-node-a', DB, { REDIS_URL: redisUrl });
  const nodeB = await startProduct(ctx, 'product-node-b', DB, { REDIS_URL: redisUrl });
  const sockets: BenchSocket[] = [];
  try {
    const one = await connectProductArm(
      ctx,
      'single node',
      { sender: single.url, recipient: single.url },
      oneSeed,
      [single.pid],
    );
    const two = await connectProductArm(
      ctx,
      'two nodes',
      { sender: nodeA.url, recipient: nodeB.url },
      twoSeed,
      [nodeA.pid, nodeB.pid],
    );
    sockets.push(...one.sockets, ...two.sockets);
    const arms = [two.arm, one.arm];
    arms.forEach(attachRecipients);
    ctx.log(`6. two nodes: sender on A, recipient on B, ${RATE} msg/s, Redis Streams adapter`);
    const windows = await interleaved(ctx, arms, RATE);
    return {
      figures: latencyFigures(
        '6. two nodes',
        windows.get('two nodes') ?? [],
        windows.get('single node') ?? [],
        'single node',
        { p99: 2, cpu: null },
      ),
      details: {
        rate: RATE,
        windows: windowDetails(windows),
      },
    };
  } finally {
    closeAll(sockets);
    await Promise.all([single.stop(), nodeA.stop(), nodeB.stop()]);
  }
}
