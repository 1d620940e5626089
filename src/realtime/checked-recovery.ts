import type { Namespace, ServerOptions } from 'socket.io';
import { withDeadline } from '../lib/deadline';
import type { Adapter, PrivateSessionId, Session } from 'socket.io-adapter';
import { CONVERSATION_ROOM_EVENTS } from './broadcaster';
import { NOT_REPLAYED } from './recovery-adapter';
import type { ChatSocket } from './socket-types';
import { conversationsWithMember, evictFromConversation, joinAllowedRooms } from './room-check';
import { allConversationRooms, conversationsOfRooms } from './rooms';

type AdapterConstructor = ServerOptions['adapter'];

/** What a restored session held, kept aside until the socket's new handshake is authenticated. */
export interface HeldRecovery {
  /** The session's private id. */
  pid: string;
  /** The user the session belonged to. */
  userId: string | undefined;
  rooms: string[];
  missedPackets: unknown[][];
  /** The offset the client presented: where its missed packets start. */
  offset: string;
  /**
   * The old socket was suspended (token expired) when it went: it had left its
   * rooms, so the session holds none of them and nothing of theirs was kept.
   */
  suspended: boolean;
}

/**
 * An adapter that can list its stored packets again when the recovery completes,
 * and keeps them for the restored rooms until told the check is over (ours).
 */
interface RereadablePackets {
  packetsAfter(offset: string, rooms: Iterable<string>): unknown[][] | null;
  releaseRestored(pid: string): void;
}

interface PacketWriter {
  packet(packet: { type: number; data: unknown[] }): void;
}
const EVENT_PACKET = 2;

/** How long finding a recovering socket's session may take (a Redis read in a cluster). */
const RESTORE_DEADLINE_MS = 2000;

/**
 * Connection state recovery, checked. On its own, Socket.IO rejoins a recovering
 * socket's rooms and writes the packets it missed as soon as the session is found,
 * before any middleware has looked at the new handshake. So a user removed from a
 * conversation while disconnected got its messages on reconnecting, and a session
 * id presented with another user's token resumed that user's rooms.
 *
 * This wraps any adapter (ours, or the Redis one) so that a restored session
 * reaches Socket.IO empty: no rooms, no packets, and in socket.data only what was
 * held back. `completeRecovery`, a middleware after authentication, then gives the
 * socket back only what its user may have now.
 */
export function withCheckedRecovery(adapter: AdapterConstructor): AdapterConstructor {
  // Socket.IO calls the adapter with `new`; a function returning an object yields that object.
  return function checkedAdapter(nsp: Namespace): Adapter {
    const instance = new (adapter as new (nsp: Namespace) => Adapter)(nsp);
    const restore = instance.restoreSession.bind(instance);
    instance.restoreSession = async (pid: PrivateSessionId, offset: string) => {
      // Bounded: with a Redis that hangs, every reconnecting client waited out its
      // connect timeout, and again at each retry (it keeps presenting its session).
      // Past the deadline Socket.IO starts the socket afresh (the client resyncs).
      const session = await withDeadline(restore(pid, offset), RESTORE_DEADLINE_MS);
      if (!session) return session;
      const previous = session.data as
        { actor?: { id?: unknown }; tokenExpired?: unknown } | undefined;
      const held: HeldRecovery = {
        pid,
        userId: typeof previous?.actor?.id === 'string' ? previous.actor.id : undefined,
        rooms: [...session.rooms],
        missedPackets: session.missedPackets as unknown[][],
        offset,
        suspended: previous?.tokenExpired === true,
      };
      return { ...session, rooms: [], missedPackets: [], data: { heldRecovery: held } } as Session;
    };
    return instance;
  } as unknown as AdapterConstructor;
}

/** What a recovered socket is owed once connected: set by completeRecovery, taken by replayMissed. */
interface PendingReplay {
  held: HeldRecovery;
  conversations: Set<string>;
}
const pendingReplays = new WeakMap<ChatSocket, PendingReplay>();

/**
 * After authentication: a recovering socket of the same user rejoins the rooms it
 * may still be in (checked as a join is); its missed packets follow once it is
 * connected (replayMissed). One presented with another user's token, or whose
 * rooms could not be checked, starts afresh: a new session id, so its client
 * knows it did not recover and joins again. Never rejects.
 */
export async function completeRecovery(
  socket: ChatSocket,
  newSessionId: () => string,
  onError: (err: unknown) => void,
): Promise<void> {
  const held = socket.data.heldRecovery;
  if (!held) return;
  delete socket.data.heldRecovery;
  if (!socket.recovered) return releaseHold(socket, held);
  const userId = socket.data.actor.id;
  // Another user's session, or one with nothing to give back: a fresh session
  // tells the client (recovered: false) to join its conversations again.
  if (held.userId !== userId || held.suspended) {
    releaseHold(socket, held);
    return startAfresh(socket, newSessionId);
  }
  try {
    const conversations = await joinAllowedRooms(socket, held.rooms, userId);
    // Gone during the check: Socket.IO will not connect it, so nothing is replayed.
    if (socket.conn.readyState !== 'open') return releaseHold(socket, held);
    pendingReplays.set(socket, { held, conversations });
  } catch (err) {
    onError(err);
    releaseHold(socket, held);
    for (const room of held.rooms) void socket.leave(room);
    startAfresh(socket, newSessionId);
  }
}

/** A restored socket refused before its check (authentication): its session is over. */
export function abandonRecovery(socket: ChatSocket): void {
  const held = socket.data.heldRecovery;
  if (!held) return;
  delete socket.data.heldRecovery;
  releaseHold(socket, held);
}

/** Tells an adapter that holds a restored session's packets (ours) that the check is over. */
function releaseHold(socket: ChatSocket, held: HeldRecovery): void {
  (socket.nsp.adapter as Partial<RereadablePackets>).releaseRestored?.(held.pid);
}

/**
 * On connection (synchronously: Socket.IO emits `connection` right after adding
 * the socket to those it addresses, so nothing falls in between), writes a
 * recovered socket's missed packets. Read again now if the adapter can (ours), so
 * that what was broadcast while its rooms were being checked is not missed; the
 * Redis adapter's list stops at the restore, as Socket.IO's own recovery does
 * (the resync covers it). Conversation-room events only for the conversations it
 * rejoined; what was addressed to the user itself, all of it.
 */
export function replayMissed(socket: ChatSocket): void {
  const pending = pendingReplays.get(socket);
  if (!pending) return;
  pendingReplays.delete(socket);
  const { held, conversations } = pending;
  const rereadable = socket.nsp.adapter as Partial<RereadablePackets>;
  const missed = rereadable.packetsAfter?.(held.offset, [...socket.rooms]) ?? held.missedPackets;
  // From here the socket is in its rooms: they keep their packets on its own account.
  releaseHold(socket, held);
  replayPackets(socket, missed, conversations);
}

/**
 * Writes missed packets in order. Conversation-room events only for `conversations`;
 * a `removed_from_conversation` among them (a removal during the check, whose
 * socketsLeave skipped the not yet connected socket) takes that conversation out
 * at once: its rooms are left and nothing of it after the notice is replayed.
 * Typing is never replayed (the Redis adapter keeps it): it describes a moment.
 */
export function replayPackets(
  socket: ChatSocket,
  packets: unknown[][],
  conversations: Set<string>,
): void {
  for (const packet of packets) {
    const [event, payload] = packet;
    const name = String(event);
    if (NOT_REPLAYED.has(name)) continue;
    const conversationId = (payload as { conversation_id?: unknown } | null)?.conversation_id;
    if (CONVERSATION_ROOM_EVENTS.has(name)) {
      if (typeof conversationId !== 'string' || !conversations.has(conversationId)) continue;
    }
    if (name === 'removed_from_conversation' && typeof conversationId === 'string') {
      conversations.delete(conversationId);
      for (const room of allConversationRooms(conversationId)) void socket.leave(room);
    }
    // Socket.IO's internal `packet`, as its own recovery writes them: emit() would
    // store each one again, under a second offset.
    (socket as unknown as PacketWriter).packet({ type: EVENT_PACKET, data: packet });
  }
}

/**
 * Once connected, a recovered socket's conversations are read once more. Until
 * then Socket.IO addresses connected sockets only, so a removal that landed
 * after the check above skipped this one: its socketsLeave (the socket would stay
 * subscribed) and its removed_from_conversation. Such rooms are left here and the
 * notice is sent; a removal after this read finds the socket connected.
 */
export async function confirmRecoveredRooms(socket: ChatSocket): Promise<void> {
  const ids = conversationsOfRooms(socket.rooms);
  if (ids.length === 0) return;
  const members = await conversationsWithMember(ids, socket.data.actor.id);
  for (const id of ids) {
    if (!members.has(id)) await evictFromConversation(socket, id);
  }
}

function startAfresh(socket: ChatSocket, newSessionId: () => string): void {
  // Socket.IO has no API for this; both fields are read when CONNECT is written.
  const internals = socket as unknown as { recovered: boolean; pid: string };
  internals.recovered = false;
  internals.pid = newSessionId();
}
