import type { ChatSocket } from './socket-types';

/**
 * Socket events that read the database and have no budget of their own (sends
 * and typing have theirs): joins, reads, receipts, re-authentication. Without a
 * bound one client could keep the database busy with them; a leave is never
 * counted, so a client can always unsubscribe.
 */
export const BUDGETED_EVENTS: ReadonlySet<string> = new Set([
  'join_conversation',
  'mark_read',
  'message_received',
  'authenticate',
]);

/** Refill per second, and the burst (a reconnect re-joining a few dozen conversations). */
export const BUDGETED_EVENTS_PER_SEC = 20;
export const BUDGETED_EVENTS_BURST = 60;

/** Per socket, only once it sends such an event: a token bucket (two numbers). */
const buckets = new WeakMap<ChatSocket, { tokens: number; at: number }>();

/**
 * Takes one unit of the socket's budget: 0 when taken, else how many ms until
 * one is back. Synchronous, so an event that passes runs exactly when it arrived
 * (the order of a socket's joins and leaves depends on it: event-order.ts).
 */
export function takeEventBudget(socket: ChatSocket, now = performance.now()): number {
  const bucket = buckets.get(socket) ?? { tokens: BUDGETED_EVENTS_BURST, at: now };
  const refilled = Math.min(
    BUDGETED_EVENTS_BURST,
    bucket.tokens + ((now - bucket.at) / 1000) * BUDGETED_EVENTS_PER_SEC,
  );
  if (refilled < 1) {
    buckets.set(socket, { tokens: refilled, at: now });
    return Math.ceil(((1 - refilled) / BUDGETED_EVENTS_PER_SEC) * 1000);
  }
  buckets.set(socket, { tokens: refilled - 1, at: now });
  return 0;
}
