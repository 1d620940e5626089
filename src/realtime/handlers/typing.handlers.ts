import type { ChatServices } from '../../chat';
import { assertNotBlocked } from '../../chat/blocks';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../lib/errors';
import type { SocketEventTable } from '../ack';
import { parseConversationRef } from '../payloads';
import { conversationRoom, userRoom } from '../rooms';
import type { ChatSocket } from '../socket-types';

/**
 * Typing starts a user may send per second on one node. A person's client sends
 * one when typing starts (some, one per keystroke); without a bound, one
 * participant could flood the others (a test relayed 300 in 109 ms).
 */
export const TYPING_EVENTS_PER_SEC = 10;

/** Typing handlers with their own per-user budget (in memory: a bound, not an accounting). */
export function typingHandlers(chat: ChatServices): SocketEventTable {
  const budget = new RateLimiterMemory({ points: TYPING_EVENTS_PER_SEC, duration: 1 });
  const relayWithin = async (socket: ChatSocket, payload: unknown, typing: boolean) => {
    const actor = socket.data.actor;
    const { conversationId } = parseConversationRef(payload, actor.id);
    // Only starts are counted: a refused stop would leave "is typing" on for the others.
    if (typing) {
      try {
        await budget.consume(actor.id);
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        throw AppError.rateLimited(refusal.msBeforeNext, 'Too many typing events: slow down');
      }
    }
    // The send's own check (cached per conversation, invalidated cluster-wide on a
    // block): nobody hears a typist they blocked. Stops still pass, so an indicator
    // shown before the block ends.
    const conversation = await chat.participation.require(conversationId, actor.id);
    if (typing) assertNotBlocked(conversation, actor.id);
    return relay(socket, conversationId, typing);
  };
  const startTyping = (socket: ChatSocket, payload: unknown) => relayWithin(socket, payload, true);
  const stopTyping = (socket: ChatSocket, payload: unknown) => relayWithin(socket, payload, false);
  return {
    typing: startTyping,
    typing_start: startTyping,
    stop_typing: stopTyping,
    typing_stop: stopTyping,
  };
}

/**
 * Typing indicators of both dialects. They go to the other participants in the
 * conversation rooms, never back to any of the typist's own sockets.
 */
async function relay(socket: ChatSocket, conversationId: string, typing: boolean) {
  const actor = socket.data.actor;
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
