import { requireParticipation } from '../../chat/conversation.service';
import type { ChatServices } from '../../chat';
import type { SocketEventTable } from '../ack';
import { parseConversationRef } from '../payloads';
import { allConversationRooms, conversationRoom } from '../rooms';

/** join_conversation / leave_conversation / mark_read. */
export function conversationHandlers(chat: ChatServices): SocketEventTable {
  return {
    async join_conversation(socket, payload) {
      const actor = socket.data.actor;
      const { conversationId, dialect } = parseConversationRef(payload, actor.id);
      // Only participants join; for anyone else the conversation "does not exist".
      await requireParticipation(conversationId, actor.id);
      await socket.join(conversationRoom(conversationId, dialect));
      return { success: true, data: { conversation_id: conversationId } };
    },

    async leave_conversation(socket, payload) {
      // Leave both dialect rooms: a client may join in one shape and leave in the other.
      const { conversationId } = parseConversationRef(payload, socket.data.actor.id);
      await Promise.all(allConversationRooms(conversationId).map((room) => socket.leave(room)));
      return { success: true, data: { conversation_id: conversationId } };
    },

    async mark_read(socket, payload) {
      const actor = socket.data.actor;
      const { conversationId } = parseConversationRef(payload, actor.id);
      return { success: true, data: await chat.reads.markAllRead(actor, conversationId) };
    },
  };
}
