import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpuMs } from './proc-stats';
import type { BenchSocket } from './sockets';
import { percentile } from './stats';

/**
 * Open-loop send load at a fixed rate: senders emit `send_message` round-robin,
 * the latency of a message runs from the sender's emit to the recipient's
 * `new_message` (same process, same clock). Every window is bounded in count and time.
 */
export interface SendPair {
  sender: BenchSocket;
  recipient: BenchSocket;
  conversationId: string;
  recipientId: string;
}

export interface SendArm {
  name: string;
  /** Server processes a message costs CPU in (one node, or both). */
  pids: number[];
  pairs: SendPair[];
  payload(pair: SendPair, text: string): Record<string, unknown>;
}

export interface WindowResult {
  arm: string;
  rate: number;
  sent: number;
  delivered: number;
  lost: number;
  failedAcks: number;
  latencies: number[];
  serverCpuMs: number;
  /** Send rate actually achieved by the load generator. */
  achievedRate: number;
  /** p99 event-loop delay of the load generator during the window, ms. */
  loadLagP99: number;
}

const TEXT = 'hello, is the saddle still available? I could pick it up on Saturday';
const pending = new Map<string, number>();
let current: number[] = [];
let windowId = 0;

function onNewMessage(message: { text?: unknown; content?: unknown }): void {
  const text = typeof message.text === 'string' ? message.text : message.content;
  if (typeof text !== 'string') return;
  const tag = text.slice(0, text.indexOf(' '));
  const t0 = pending.get(tag);
  if (t0 === undefined) return;
  pending.delete(tag);
  current.push(performance.now() - t0);
}

/** Listens for `new_message` on every recipient of the arm (once per socket). */
export function attachRecipients(arm: SendArm): void {
  for (const pair of arm.pairs) {
    if (pair.recipient.listeners('new_message').includes(onNewMessage)) continue;
    pair.recipient.on('new_message', onNewMessage);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends `rate` messages per second for `durationMs`, then waits up to `drainMs`
 * for the last deliveries and acks. Messages not delivered by then are lost.
 */
export async function runWindow(
  arm: SendArm,
  rate: number,
  durationMs: number,
  drainMs = 3000,
): Promise<WindowResult> {
  windowId += 1;
  const latencies: number[] = [];
  current = latencies;
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const cpuBefore = arm.pids.map(cpuMs);
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  let sent = 0;
  let acked = 0;
  let failedAcks = 0;
  const onAck = (body: { success?: boolean } | undefined) => {
    acked += 1;
    if (!body?.success) failedAcks += 1;
  };
  const start = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const pair = arm.pairs[sent % arm.pairs.length];
      const tag = `w${windowId}m${sent}`;
      pending.set(tag, performance.now());
      pair.sender.emit('send_message', arm.payload(pair, `${tag} ${TEXT}`), onAck);
    }
    await sleep(1);
  }
  const sendMs = performance.now() - start;
  const deadline = performance.now() + drainMs;
  while ((latencies.length < sent || acked < sent) && performance.now() < deadline) {
    await sleep(5);
  }
  lag.disable();
  const serverCpuMs = arm.pids.reduce((sum, pid, i) => sum + cpuMs(pid) - cpuBefore[i], 0);
  for (const tag of pending.keys()) if (tag.startsWith(`w${windowId}m`)) pending.delete(tag);
  return {
    arm: arm.name,
    rate,
    sent,
    delivered: latencies.length,
    lost: sent - latencies.length,
    failedAcks: failedAcks + (sent - acked),
    latencies,
    serverCpuMs,
    achievedRate: (sent * 1000) / sendMs,
    loadLagP99: lag.percentile(99) / 1e6,
  };
}

export function describeWindow(w: WindowResult): string {
  return (
    `${w.arm.padEnd(12)} ${String(w.rate).padStart(5)}/s sent ${w.sent} lost ${w.lost} ` +
    `failed ${w.failedAcks} p50 ${percentile(w.latencies, 50).toFixed(2)} ms ` +
    `p99 ${percentile(w.latencies, 99).toFixed(2)} ms cpu/msg ` +
    `${((w.serverCpuMs * 1000) / Math.max(1, w.sent)).toFixed(0)} µs ` +
    `(load lag p99 ${w.loadLagP99.toFixed(1)} ms)`
  );
}

/** The per-window figures kept in bench-results/latest.json, by arm. */
export function windowDetails(windows: Map<string, WindowResult[]>) {
  return Object.fromEntries(
    [...windows].map(([name, ws]) => [
      name,
      ws.map((w) => ({
        sent: w.sent,
        lost: w.lost,
        p50: percentile(w.latencies, 50),
        p99: percentile(w.latencies, 99),
        cpuUsPerMsg: (w.serverCpuMs * 1000) / w.sent,
        loadLagP99: w.loadLagP99,
      })),
    ]),
  );
}
