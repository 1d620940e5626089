import { requireParticipation } from '../../chat/conversation.service';
import type { RealtimeContext } from '../context';
import { onEvent } from '../ack';
import { parseConversationRef } from '../payloads';
import { allConversationRooms, conversationRoom, userRoom } from '../rooms';
import type { ChatSocket } from '../socket-types';

/**
 * Typing indicators of both dialects. They go to the other participants in the
 * conversation rooms, never back to any of the typist's own sockets.
 */
export function registerTypingHandlers(socket: ChatSocket, ctx: RealtimeContext): void {
  const actor = socket.data.actor;

  async function relay(payload: unknown, typing: boolean) {
    const { conversationId } = parseConversationRef(payload, actor.id);
    // A joined room proves participation (removal makes sockets leave); otherwise ask the database.
    const joined = allConversationRooms(conversationId).some((room) => socket.rooms.has(room));
    if (!joined) await requireParticipation(conversationId, actor.id);

    const others = (room: string) => socket.to(room).except(userRoom(actor.id));
    const horseTrust = { conversation_id: conversationId, userId: actor.id };
    const karmyq = {
      conversation_id: conversationId,
      user_id: actor.id,
      user_name: actor.profile.full_name,
    };
    if (typing) {
      others(conversationRoom(conversationId, 'horse_trust')).emit('user_typing', horseTrust);
      others(conversationRoom(conversationId, 'karmyq')).emit('user_typing', karmyq);
    } else {
      others(conversationRoom(conversationId, 'horse_trust')).emit('user_stop_typing', horseTrust);
      others(conversationRoom(conversationId, 'karmyq')).emit('user_stopped_typing', karmyq);
    }
    return { success: true as const, data: { conversation_id: conversationId } };
  }

  onEvent(socket, 'typing', ctx, (payload) => relay(payload, true));
  onEvent(socket, 'typing_start', ctx, (payload) => relay(payload, true));
  onEvent(socket, 'stop_typing', ctx, (payload) => relay(payload, false));
  onEvent(socket, 'typing_stop', ctx, (payload) => relay(payload, false));
}
