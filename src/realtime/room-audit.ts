import { Types } from 'mongoose';
import { Conversation } from '../../models';
import type { Logger } from '../lib/logger';
import { conversationsWithMember, evictFromConversation } from './room-check';
import { conversationOfRoom } from './rooms';
import type { ChatServer, ChatSocket } from './socket-types';

/** Conversations per database read of an audit. */
const AUDIT_CHUNK = 500;

/**
 * Cluster mode: a removal makes the removed user's sockets leave on every node
 * through the adapter, but a node whose Redis connection is down when it makes
 * one cannot publish that leave, and the sockets on the other nodes would keep
 * receiving the conversation. So each node checks its own conversation rooms
 * against the database now and then (one read per AUDIT_CHUNK conversations),
 * and evicts any socket whose user no longer takes part, as a removal would.
 * Returns how many (socket, conversation) pairs it evicted. `stopped` ends a
 * run early (between reads) when the node shuts down.
 */
export async function auditConversationRooms(
  io: ChatServer,
  stopped: () => boolean = () => false,
): Promise<number> {
  const nsp = io.of('/');
  const socketsByConversation = new Map<string, Set<ChatSocket>>();
  for (const [room, socketIds] of nsp.adapter.rooms) {
    const conversationId = conversationOfRoom(room);
    if (!conversationId) continue;
    const sockets = socketsByConversation.get(conversationId) ?? new Set<ChatSocket>();
    for (const id of socketIds) {
      const socket = nsp.sockets.get(id);
      if (socket) sockets.add(socket);
    }
    socketsByConversation.set(conversationId, sockets);
  }
  const ids = [...socketsByConversation.keys()];
  let evicted = 0;
  for (let start = 0; start < ids.length && !stopped(); start += AUDIT_CHUNK) {
    const chunk = ids.slice(start, start + AUDIT_CHUNK);
    const found = await Conversation.collection
      .find<{ _id: Types.ObjectId; participants: Types.ObjectId[] }>(
        { _id: { $in: chunk.map((id) => new Types.ObjectId(id)) } },
        { projection: { participants: 1 } },
      )
      .toArray();
    const members = new Map(
      found.map((c) => [c._id.toString(), new Set(c.participants.map(String))]),
    );
    for (const id of chunk) {
      for (const socket of socketsByConversation.get(id) ?? []) {
        const userId = socket.data.actor.id;
        if (members.get(id)?.has(userId) || stopped()) continue;
        // Read again for this one (rare) case: a user removed and added back
        // while the chunk was read is a member, and keeps the room.
        if ((await conversationsWithMember([id], userId)).has(id)) continue;
        await evictFromConversation(socket, id);
        evicted++;
      }
    }
  }
  return evicted;
}

/**
 * Runs auditConversationRooms every `intervalMs`, one run at a time. The
 * returned stop waits for a run in progress, so a shutdown never closes the
 * database under it (which would log a spurious failure).
 */
export function auditRoomsEvery(
  io: ChatServer,
  intervalMs: number,
  logger: Logger,
): () => Promise<void> {
  if (intervalMs <= 0) return () => Promise.resolve();
  let running: Promise<void> | null = null;
  let stopped = false;
  const timer = setInterval(() => {
    if (running) return;
    running = auditConversationRooms(io, () => stopped)
      .then((evicted) => {
        if (evicted > 0) {
          logger.warn({ evicted }, 'room audit: evicted sockets from conversations they left');
        }
      })
      .catch((err: unknown) => logger.warn({ err }, 'room audit failed'))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
