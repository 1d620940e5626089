import { requireParticipation } from '../../chat/conversation.service';
import type { ChatServices } from '../../chat';
import type { RealtimeContext } from '../context';
import { onEvent } from '../ack';
import type { ChatSocket } from '../socket-types';
import { parseConversationRef } from '../payloads';
import { allConversationRooms, conversationRoom } from '../rooms';

/** join_conversation / leave_conversation / mark_read. */
export function registerConversationHandlers(
  socket: ChatSocket,
  chat: ChatServices,
  ctx: RealtimeContext,
): void {
  const actor = socket.data.actor;

  onEvent(socket, 'join_conversation', ctx, async (payload) => {
    const { conversationId, dialect } = parseConversationRef(payload, actor.id);
    // Only participants join; for anyone else the conversation "does not exist".
    await requireParticipation(conversationId, actor.id);
    await socket.join(conversationRoom(conversationId, dialect));
    return { success: true, data: { conversation_id: conversationId } };
  });

  onEvent(socket, 'leave_conversation', ctx, async (payload) => {
    // Leave both dialect rooms: a client may join in one shape and leave in the other.
    const { conversationId } = parseConversationRef(payload, actor.id);
    await Promise.all(allConversationRooms(conversationId).map((room) => socket.leave(room)));
    return { success: true, data: { conversation_id: conversationId } };
  });

  onEvent(socket, 'mark_read', ctx, async (payload) => {
    const { conversationId } = parseConversationRef(payload, actor.id);
    return { success: true, data: await chat.reads.markAllRead(actor, conversationId) };
  });
}
