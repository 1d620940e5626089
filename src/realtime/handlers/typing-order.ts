import type { ChatSocket } from '../socket-types';

/** Conversations per socket whose typing order is remembered (a client types in a few). */
const ORDERED_CONVERSATIONS_PER_SOCKET = 32;

/**
 * Per socket: how many typing events it has sent, and per conversation the
 * newest one relayed. A start checks participation (maybe a database read)
 * where a stop in a joined room does not, so a stop can be relayed before the
 * start it follows; that start is then stale and dropped, or the others would be
 * left seeing an indicator that never ends (and likewise a stale stop).
 */
export interface TypingOrder {
  arrived: number;
  relayed: Map<string, { number: number; typing: boolean }>;
}
const typingOrders = new WeakMap<ChatSocket, TypingOrder>();

/** The arrival number of a typing event, taken when it arrives (before any await). */
export function arrivalOf(socket: ChatSocket): { order: TypingOrder; number: number } {
  let order = typingOrders.get(socket);
  if (!order) {
    order = { arrived: 0, relayed: new Map() };
    typingOrders.set(socket, order);
  }
  return { order, number: ++order.arrived };
}

/**
 * Whether the opposite event, sent later by this socket, was already relayed to
 * this conversation; else records this one as relayed. Two starts (or stops)
 * out of order say the same thing, so both are relayed.
 */
export function overtaken(
  { relayed }: TypingOrder,
  conversationId: string,
  arrival: { number: number; typing: boolean },
): boolean {
  const newest = relayed.get(conversationId);
  if (newest && newest.number > arrival.number) return newest.typing !== arrival.typing;
  relayed.delete(conversationId); // re-inserted last: the least recent entry goes first
  relayed.set(conversationId, arrival);
  if (relayed.size > ORDERED_CONVERSATIONS_PER_SOCKET) {
    relayed.delete(relayed.keys().next().value as string);
  }
  return false;
}
