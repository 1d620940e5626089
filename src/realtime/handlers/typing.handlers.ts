import { requireParticipation } from '../../chat/conversation.service';
import type { SocketEventTable } from '../ack';
import { parseConversationRef } from '../payloads';
import { allConversationRooms, conversationRoom, userRoom } from '../rooms';
import type { ChatSocket } from '../socket-types';

/**
 * Typing indicators of both dialects. They go to the other participants in the
 * conversation rooms, never back to any of the typist's own sockets.
 */
async function relay(socket: ChatSocket, payload: unknown, typing: boolean) {
  const actor = socket.data.actor;
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

const startTyping = (socket: ChatSocket, payload: unknown) => relay(socket, payload, true);
const stopTyping = (socket: ChatSocket, payload: unknown) => relay(socket, payload, false);

export const typingHandlers: SocketEventTable = {
  typing: startTyping,
  typing_start: startTyping,
  stop_typing: stopTyping,
  typing_stop: stopTyping,
};
