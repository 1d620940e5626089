import { Agent, request } from 'node:http';
import { percentile } from './stats';

/**
 * Closed-loop HTTP load over keep-alive connections: `concurrency` requests in
 * flight for `durationMs`, bounded by time and by `maxRequests`.
 */
export interface HttpWindow {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

export interface HttpTarget {
  name: string;
  url: string;
  headers?: Record<string, string>;
}

export function getJson(
  agent: Agent,
  target: HttpTarget,
): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(target.url, { agent, headers: target.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - t0,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export async function closedLoop(
  target: HttpTarget,
  options: { concurrency: number; durationMs: number; maxRequests?: number },
): Promise<HttpWindow> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const maxRequests = options.maxRequests ?? 1_000_000;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline && latencies.length + errors < maxRequests) {
      try {
        const res = await getJson(agent, target);
        if (res.status === 200) latencies.push(res.ms);
        else errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsed = performance.now() - start;
  agent.destroy();
  return {
    name: target.name,
    requests: latencies.length,
    errors,
    rps: (latencies.length * 1000) / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
