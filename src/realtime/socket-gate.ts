import type { ChatSocket } from './socket-types';

/**
 * Events one socket may have running at once (joins, receipts, typing, ...):
 * each may read the database, and a client's normal use (a reconnect re-joining
 * its conversations, a receipt per message received) keeps one or two in flight.
 */
export const MAX_RUNNING_PER_SOCKET = 8;

/**
 * Events one socket may have waiting for a slot, beyond which they are refused
 * (RATE_LIMITED) at once. Without a bound, one socket's 50,000 mark_read emits
 * took the server from 77 MB to 2.3 GB of RSS and held another user's join for
 * 41-51 s (probe, 2026-11-22): every event started its database work at once and
 * queued in the driver's pool. Each waiting event holds its decoded payload
 * (a frame is at most 16 KB, realtime/index.ts), so a socket holds at most ~4 MB
 * of them, ~50 KB with real payloads.
 */
export const MAX_WAITING_PER_SOCKET = 256;

/** An event's place: it may run now, must wait for the promise, or is refused. */
export type GateTicket = 'now' | 'refused' | Promise<void>;

interface SocketSlots {
  running: number;
  /** First in, first out, so the events run in the order the socket sent them. */
  waiting: Array<() => void>;
}

/**
 * A per-socket bulkhead: at most MAX_RUNNING_PER_SOCKET events run, the next
 * MAX_WAITING_PER_SOCKET wait their turn in arrival order, and any more are
 * refused. So a flooding client costs a bounded amount of memory and database
 * work, and waits for its own events, not everyone else's. State exists only
 * while a socket has events in flight.
 */
export class SocketGate {
  private readonly slots = new WeakMap<ChatSocket, SocketSlots>();

  constructor(
    private readonly maxRunning = MAX_RUNNING_PER_SOCKET,
    private readonly maxWaiting = MAX_WAITING_PER_SOCKET,
  ) {}

  /**
   * Takes a slot, or a place in line, synchronously (so the order of arrival is
   * kept). Every ticket other than 'refused' must be followed by one `release`.
   */
  enter(socket: ChatSocket): GateTicket {
    let slots = this.slots.get(socket);
    if (!slots) {
      slots = { running: 0, waiting: [] };
      this.slots.set(socket, slots);
    }
    if (slots.running < this.maxRunning) {
      slots.running += 1;
      return 'now';
    }
    if (slots.waiting.length >= this.maxWaiting) return 'refused';
    const line = slots.waiting;
    return new Promise<void>((resolve) => line.push(resolve));
  }

  /**
   * A disconnected socket: its waiting events leave the line at once (each finds
   * its socket gone and is dropped), and with them the payloads they hold.
   * Releases of events still running find no state and do nothing.
   */
  abandon(socket: ChatSocket): void {
    const slots = this.slots.get(socket);
    if (!slots) return;
    this.slots.delete(socket);
    slots.waiting.splice(0).forEach((admit) => admit());
  }

  /** Frees a slot: handed straight to the next in line, so no newcomer can jump it. */
  release(socket: ChatSocket): void {
    const slots = this.slots.get(socket);
    if (!slots) return;
    const next = slots.waiting.shift();
    if (next) {
      next();
      return;
    }
    slots.running -= 1;
    if (slots.running === 0) this.slots.delete(socket);
  }
}
