/**
 * Benchmark 6: two nodes on one Redis. Cross-node send → deliver (sender on
 * node A, recipient on node B) at benchmark 1's rate, against a single node
 * (in-memory adapter) on the same database, interleaved.
 */
import { startProduct, type BenchContext } from './lib/context';
import { connectProductArm, seedPairs } from './lib/pairs';
import type { BenchOutcome } from './lib/report';
import { attachRecipients, windowDetails } from './lib/send-load';
import { closeAll, type BenchSocket } from './lib/sockets';
import { interleaved, latencyFigures, PAIRS, RATE } from './send-deliver';

const DB = 'bench_nodes';

export async function runTwoNodes(ctx: BenchContext): Promise<BenchOutcome> {
  const redisUrl = await ctx.redisUrl();
  if (!redisUrl) throw new Error('no Redis: install redis-server or set REDIS_URL');
  const seed = await seedPairs(ctx, DB, PAIRS);
  const single = await startProduct(ctx, 'product-single', DB);
  const nodeA = await startProduct(ctx, 'product-node-a', DB, { REDIS_URL: redisUrl });
  const nodeB = await startProduct(ctx, 'product-node-b', DB, { REDIS_URL: redisUrl });
  const sockets: BenchSocket[] = [];
  try {
    const one = await connectProductArm(
      ctx,
      'single node',
      { sender: single.url, recipient: single.url },
      seed,
      [single.pid],
    );
    const two = await connectProductArm(
      ctx,
      'two nodes',
      { sender: nodeA.url, recipient: nodeB.url },
      seed,
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
