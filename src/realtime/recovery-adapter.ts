import { randomBytes } from 'node:crypto';
import { encodeRooms, PacketLog } from './packet-log';
import {
  Adapter,
  type BroadcastOptions,
  type PrivateSessionId,
  type Room,
  type Session,
} from 'socket.io-adapter';

/** Events a recovering socket gains nothing from: they describe a moment that has passed. */
export const NOT_REPLAYED: ReadonlySet<string> = new Set([
  'user_typing',
  'user_stop_typing',
  'user_stopped_typing',
  // A node's farewell: replayed, it would send a recovered client away again.
  'server_shutdown',
]);
const PRUNE_INTERVAL_MS = 1000;
/**
 * How long a restored session's rooms still count as waiting, at most: its check
 * releases them when it completes (milliseconds), so this only bounds a socket
 * that went away mid-check.
 */
const RESTORED_HOLD_MS = 60_000;
/**
 * Socket.IO reads a null session as "start afresh"; the adapter package's
 * signature says Promise<Session>, so the one cast lives here.
 */
const NOT_RECOVERED = Promise.resolve(null as unknown as Session);
/** The packet parsed by Socket.IO: an event's data is [name, ...args]. */
interface BroadcastPacket {
  type: number;
  id?: number;
  data: unknown[];
}

type PersistedSession = Omit<Session, 'missedPackets'> & { disconnectedAt: number };

/**
 * The single-node adapter with connection state recovery, doing what Socket.IO's
 * SessionAwareAdapter does (every stored broadcast carries an offset; a socket that
 * reconnects within the window gets its rooms and the packets it missed) at a
 * fraction of the cost under load, which `npm run bench` measured: the stock
 * adapter keeps every packet's object graph for up to 90 s (it prunes once a
 * minute), so at a few thousand messages per second the heap grew by hundreds of
 * MB and garbage collection dominated. Here packets are kept as JSON outside the
 * heap (packet-log.ts), pruned every second, and only when someone could ever
 * receive them: a room with no connected member and no member waiting to recover
 * (a dialect nobody uses, say) stores nothing; nor do typing events.
 *
 * An offset is this process's random prefix and the packet's seq in base 36.
 */
export class RecoveryAdapter extends Adapter {
  private readonly windowMs: number;
  private readonly sessions = new Map<PrivateSessionId, PersistedSession>();
  /** Rooms of sessions just restored, still counted in sessionRooms until released. */
  private readonly restored = new Map<PrivateSessionId, { rooms: Room[]; releaseAt: number }>();
  /** How many persisted sessions hold each room: packets to these rooms are kept. */
  private readonly sessionRooms = new Map<Room, number>();
  private readonly log = new PacketLog();
  private readonly offsetPrefix = randomBytes(4).toString('hex');
  private readonly timer: NodeJS.Timeout;

  // Only the recovery window is read from the namespace's server options.
  constructor(nsp: {
    server: { opts: { connectionStateRecovery?: { maxDisconnectionDuration?: number } } };
  }) {
    super(nsp);
    this.windowMs = nsp.server.opts.connectionStateRecovery?.maxDisconnectionDuration ?? 120_000;
    this.timer = setInterval(() => this.prune(), PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  override persistSession(session: Omit<Session, 'missedPackets'>): void {
    this.sessions.set(session.pid, { ...session, disconnectedAt: Date.now() });
    for (const room of session.rooms)
      this.sessionRooms.set(room, (this.sessionRooms.get(room) ?? 0) + 1);
  }

  override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session> {
    const session = this.sessions.get(pid);
    if (!session) return NOT_RECOVERED;
    this.sessions.delete(pid);
    const missedPackets =
      session.disconnectedAt + this.windowMs < Date.now()
        ? null
        : this.packetsAfter(offset, session.rooms);
    if (!missedPackets) {
      // Too old, or an offset this log does not hold: no recovery (the client resyncs).
      this.releaseRooms(session.rooms);
      return NOT_RECOVERED;
    }
    // Its rooms keep their packets a little longer: while the restored socket's rooms
    // are checked (checked-recovery.ts) it is in none of them, and what is broadcast
    // meanwhile is read again when the check completes (releaseRestored).
    this.releaseRestored(pid); // a session that flapped: its earlier socket is gone
    this.restored.set(pid, { rooms: session.rooms, releaseAt: Date.now() + RESTORED_HOLD_MS });
    const { sid, pid: restoredPid, rooms, data } = session;
    return Promise.resolve({ sid, pid: restoredPid, rooms, data, missedPackets });
  }

  /**
   * The stored packets after `offset` that reach a socket in `rooms`, or null when
   * this log no longer holds (or never gave) that offset. Also read when a checked
   * recovery completes (checked-recovery.ts), so that what was broadcast while its
   * rooms were being checked is not missed.
   */
  packetsAfter(offset: unknown, rooms: Iterable<Room>): unknown[][] | null {
    const seq = this.seqOf(offset);
    if (seq === null || !this.log.holds(seq)) return null;
    return this.log.jsonAfter(seq, encodeRooms(rooms)).map((json) => JSON.parse(json) as unknown[]);
  }

  /**
   * The restored session's check is over (its socket is in its rooms, or starts
   * afresh): its rooms no longer keep packets on its account.
   */
  releaseRestored(pid: PrivateSessionId): void {
    const entry = this.restored.get(pid);
    if (!entry) return;
    this.restored.delete(pid);
    this.releaseRooms(entry.rooms);
  }

  override broadcast(packet: BroadcastPacket, opts: BroadcastOptions): void {
    const rooms = opts.rooms;
    let connected = rooms.size === 0;
    let waiting = false;
    for (const room of rooms) {
      connected ||= this.rooms.has(room);
      waiting ||= this.sessionRooms.has(room);
    }
    if (!connected && !waiting) return;
    const isStorableEvent =
      packet.type === 2 && // EVENT: acknowledgements cannot be replayed
      packet.id === undefined &&
      opts.flags?.volatile === undefined &&
      !NOT_REPLAYED.has(String(packet.data[0]));
    if (isStorableEvent) this.store(packet, opts);
    if (connected) super.broadcast(packet, opts);
  }

  override close(): void {
    clearInterval(this.timer);
  }

  /** Appends the packet to the log; its offset travels as the last argument, as with Socket.IO's own adapter. */
  private store(packet: BroadcastPacket, opts: BroadcastOptions): void {
    const rooms = opts.rooms;
    const except = opts.except ?? [];
    // The offset is the seq the log is about to give; written before encoding so the
    // stored copy carries it too.
    const seq = this.log.nextSeqToAppend;
    packet.data.push(`${this.offsetPrefix}${seq.toString(36)}`);
    try {
      this.log.append(rooms, except, JSON.stringify(packet.data), Date.now());
    } catch (err) {
      // Not storable (a room name beyond the log's limits): sent live, not recoverable.
      packet.data.pop();
      if (!(err instanceof RangeError)) throw err;
    }
  }

  /** The seq an offset names, if it is one of this process's offsets. */
  private seqOf(offset: unknown): number | null {
    if (typeof offset !== 'string' || !offset.startsWith(this.offsetPrefix)) return null;
    const digits = offset.slice(this.offsetPrefix.length);
    if (!/^[0-9a-z]{1,11}$/.test(digits)) return null;
    return parseInt(digits, 36);
  }

  private prune(): void {
    const now = Date.now();
    const threshold = now - this.windowMs;
    for (const [pid, session] of this.sessions) {
      if (session.disconnectedAt < threshold) {
        this.sessions.delete(pid);
        this.releaseRooms(session.rooms);
      }
    }
    for (const [pid, entry] of this.restored) {
      if (entry.releaseAt <= now) this.releaseRestored(pid);
    }
    this.log.dropOlderThan(threshold);
  }

  private releaseRooms(rooms: Iterable<Room>): void {
    for (const room of rooms) {
      const left = (this.sessionRooms.get(room) ?? 1) - 1;
      if (left > 0) this.sessionRooms.set(room, left);
      else this.sessionRooms.delete(room);
    }
  }
}
