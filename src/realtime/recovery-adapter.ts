import { randomBytes } from 'node:crypto';
import {
  Adapter,
  type BroadcastOptions,
  type PrivateSessionId,
  type Room,
  type Session,
} from 'socket.io-adapter';

/** Events a recovering socket gains nothing from: they describe a moment that has passed. */
const NOT_REPLAYED = new Set(['user_typing', 'user_stop_typing', 'user_stopped_typing']);
const PRUNE_INTERVAL_MS = 1000;
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

interface StoredPacket {
  id: string;
  rooms: Room[];
  except: Room[];
  /** The packet's data as JSON: one flat string per packet is far cheaper to keep than its object graph. */
  json: string;
  emittedAt: number;
}

type PersistedSession = Omit<Session, 'missedPackets'> & { disconnectedAt: number };

/**
 * The single-node adapter with connection state recovery, doing what Socket.IO's
 * SessionAwareAdapter does (every stored broadcast carries an offset; a socket that
 * reconnects within the window gets its rooms and the packets it missed) at a
 * fraction of the cost under load, which `npm run bench` measured: the stock
 * adapter keeps every packet's object graph for up to 90 s (it prunes once a
 * minute), so at a few thousand messages per second the heap grew by hundreds of
 * MB and garbage collection dominated. Here packets are kept as JSON strings,
 * pruned every second, and only when someone could ever receive them: a room with
 * no connected member and no member waiting to recover (a dialect nobody uses, say)
 * stores nothing; nor do typing events.
 */
export class RecoveryAdapter extends Adapter {
  private readonly windowMs: number;
  private readonly sessions = new Map<PrivateSessionId, PersistedSession>();
  /** How many persisted sessions hold each room: packets to these rooms are kept. */
  private readonly sessionRooms = new Map<Room, number>();
  private packets: StoredPacket[] = [];
  /** Packets before this index have expired (dropped in chunks, not one splice per packet). */
  private head = 0;
  private readonly offsetPrefix = randomBytes(4).toString('hex');
  private nextOffset = 0;
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
    this.forgetSession(pid, session);
    if (session.disconnectedAt + this.windowMs < Date.now()) {
      return NOT_RECOVERED;
    }
    let index = -1;
    for (let i = this.packets.length - 1; i >= this.head; i--) {
      if (this.packets[i].id === offset) {
        index = i;
        break;
      }
    }
    // An unknown offset is older than the window: no recovery (the client resyncs).
    if (index === -1) return NOT_RECOVERED;
    const missedPackets: unknown[][] = [];
    for (let i = index + 1; i < this.packets.length; i++) {
      const packet = this.packets[i];
      if (reaches(packet, session.rooms)) missedPackets.push(JSON.parse(packet.json) as unknown[]);
    }
    const { sid, pid: restoredPid, rooms, data } = session;
    return Promise.resolve({ sid, pid: restoredPid, rooms, data, missedPackets });
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
    if (isStorableEvent) {
      const id = `${this.offsetPrefix}${(this.nextOffset++).toString(36)}`;
      // The offset travels as the last argument, as with Socket.IO's own adapter.
      packet.data.push(id);
      this.packets.push({
        id,
        rooms: [...rooms],
        except: [...(opts.except ?? [])],
        json: JSON.stringify(packet.data),
        emittedAt: Date.now(),
      });
    }
    if (connected) super.broadcast(packet, opts);
  }

  override close(): void {
    clearInterval(this.timer);
  }

  private prune(): void {
    const threshold = Date.now() - this.windowMs;
    for (const [pid, session] of this.sessions) {
      if (session.disconnectedAt < threshold) this.forgetSession(pid, session);
    }
    while (this.head < this.packets.length && this.packets[this.head].emittedAt < threshold) {
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.packets.length) {
      this.packets = this.packets.slice(this.head);
      this.head = 0;
    }
  }

  private forgetSession(pid: PrivateSessionId, session: PersistedSession): void {
    this.sessions.delete(pid);
    for (const room of session.rooms) {
      const left = (this.sessionRooms.get(room) ?? 1) - 1;
      if (left > 0) this.sessionRooms.set(room, left);
      else this.sessionRooms.delete(room);
    }
  }
}

/** Whether a stored packet was addressed to a socket in `rooms` (Socket.IO's rule). */
function reaches(packet: StoredPacket, rooms: Room[]): boolean {
  const included = packet.rooms.length === 0 || rooms.some((room) => packet.rooms.includes(room));
  return included && !rooms.some((room) => packet.except.includes(room));
}
