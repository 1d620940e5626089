import type { ChatServices } from '../../chat';
import { conversationAck, type SocketEventTable } from '../ack';
import { AppError } from '../../lib/errors';
import { parseConversationRef } from '../payloads';
import { joinAllowedRooms } from '../room-check';
import { inArrivalOrder, overtaken } from './event-order';
import { allConversationRooms, conversationRoom, otherDialect } from '../rooms';

/** The order key of a socket's joins and leaves of one conversation (event-order.ts). */
const membershipKey = (conversationId: string) => `membership:${conversationId}`;

/** join_conversation / leave_conversation / mark_read. */
export function conversationHandlers(chat: ChatServices): SocketEventTable {
  return {
    join_conversation: (socket, payload) =>
      inArrivalOrder(socket, async (arrival) => {
        const actor = socket.data.actor;
        const { conversationId, dialect } = parseConversationRef(payload, actor.id);
        const room = conversationRoom(conversationId, dialect);
        // The payload's shape picks the dialect; a socket that switches shape leaves the
        // other dialect's room, or it would get every event twice, once in each shape.
        const otherRoom = conversationRoom(conversationId, otherDialect(dialect));
        // A leave or another join sent after this one, and already done while this
        // one read membership, is what the client wants now: this join is dropped.
        let superseded = false;
        const joined = await joinAllowedRooms(socket, [room], actor.id, {
          replaces: [otherRoom],
          live: true,
          stillWanted: () =>
            !(superseded = overtaken(arrival, membershipKey(conversationId), 'join', {
              sameKindToo: true,
            })),
        });
        // The token expired while the membership was read: refused, whatever else
        // happened. The suspension took the socket out of the rooms it had then, not
        // this one, so it leaves here too.
        if (socket.data.tokenExpired) {
          if (!superseded) await socket.leave(room);
          throw new AppError('TOKEN_EXPIRED');
        }
        if (superseded) return conversationAck(conversationId);
        // Only participants join (a removal while joining takes the socket out again);
        // for anyone else the conversation "does not exist".
        if (!joined.has(conversationId)) throw new AppError('CONVERSATION_NOT_FOUND');
        return conversationAck(conversationId);
      }),

    leave_conversation: (socket, payload) =>
      inArrivalOrder(socket, async (arrival) => {
        // Leave both dialect rooms: a client may join in one shape and leave in the other.
        const { conversationId } = parseConversationRef(payload, socket.data.actor.id);
        // Never overtaken (nothing is awaited before it); recorded for the joins before it.
        overtaken(arrival, membershipKey(conversationId), 'leave');
        await Promise.all(allConversationRooms(conversationId).map((room) => socket.leave(room)));
        return conversationAck(conversationId);
      }),

    async mark_read(socket, payload) {
      const actor = socket.data.actor;
      const { conversationId } = parseConversationRef(payload, actor.id);
      return { success: true, data: await chat.reads.markAllRead(actor, conversationId) };
    },
  };
}
