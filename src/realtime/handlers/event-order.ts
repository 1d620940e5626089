import type { ChatSocket } from '../socket-types';

/**
 * Records one socket keeps before pruning those nothing in flight can need (a
 * client acts in a few conversations at a time; a reconnect re-joins many).
 */
const PRUNE_ABOVE_KEYS = 32;
/** The most records one socket keeps, whatever is in flight. */
const MAX_KEYS = 256;

/**
 * Events of one socket take effect in the order it sent them, where one kind
 * awaits a database read and its opposite does not: a typing start checks
 * participation where a stop in a joined room does not, a join reads membership
 * where a leave does not. Without this, a stop (a leave) sent right after its
 * start (its join) took effect first, and the start then left an indicator that
 * never ends (the join, a socket subscribed to a conversation it had left).
 *
 * Each event gets an arrival number when it arrives (before any await); per key
 * the newest event applied is kept, and an older one finishing later is dropped
 * when it would undo it. State lives only while some of the socket's ordered
 * events are in flight, so a socket at rest holds none.
 */
interface SocketOrder {
  arrived: number;
  /** Arrival numbers of the events still running. */
  inFlight: Set<number>;
  applied: Map<string, { number: number; kind: string }>;
}

const orders = new WeakMap<ChatSocket, SocketOrder>();

export interface Arrival {
  readonly socket: ChatSocket;
  readonly number: number;
}

/**
 * Runs `work` as an ordered event of `socket`. Called synchronously when the
 * event is admitted, which the per-socket gate does in arrival order (ack.ts,
 * socket-gate.ts), so the numbers follow the order the client sent.
 */
export async function inArrivalOrder<T>(
  socket: ChatSocket,
  work: (arrival: Arrival) => Promise<T>,
): Promise<T> {
  let order = orders.get(socket);
  if (!order) {
    order = { arrived: 0, inFlight: new Set(), applied: new Map() };
    orders.set(socket, order);
  }
  const arrival = { socket, number: ++order.arrived };
  order.inFlight.add(arrival.number);
  try {
    return await work(arrival);
  } finally {
    order.inFlight.delete(arrival.number);
    // Nothing older is in flight any more: nothing left to compare against.
    if (order.inFlight.size === 0) orders.delete(socket);
  }
}

/**
 * Whether a later event of the same socket under `key` has already taken effect
 * and this one would undo it: a later one of another kind, or of any kind when
 * `sameKindToo`. Otherwise records this one as taken effect (call it right where
 * the effect happens, with no await in between) and returns false.
 */
export function overtaken(
  arrival: Arrival,
  key: string,
  kind: string,
  options: { sameKindToo?: boolean } = {},
): boolean {
  const order = orders.get(arrival.socket);
  if (!order) return false;
  const newest = order.applied.get(key);
  if (newest && newest.number > arrival.number) {
    return Boolean(options.sameKindToo) || newest.kind !== kind;
  }
  order.applied.delete(key); // re-inserted last: the map runs from least to most recent
  order.applied.set(key, { number: arrival.number, kind });
  if (order.applied.size > PRUNE_ABOVE_KEYS) prune(order);
  return false;
}

/**
 * Drops what no event still running can be compared against: records older than
 * the oldest event in flight. (Dropping by count could forget a leave that a
 * slower join sent before it still has to yield to.) Past MAX_KEYS, a flood of
 * distinct conversations while one event is stuck, the least recent go anyway:
 * memory stays bounded, and only that flooding client's own order can suffer.
 */
function prune(order: SocketOrder): void {
  // The set keeps insertion order, and numbers are inserted rising: first = oldest.
  const oldest = order.inFlight.values().next().value ?? Infinity;
  for (const [key, record] of order.applied) {
    if (record.number < oldest) order.applied.delete(key);
  }
  for (const key of order.applied.keys()) {
    if (order.applied.size <= MAX_KEYS) break;
    order.applied.delete(key);
  }
}
