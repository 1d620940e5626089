import type { ChatServices } from '../../chat';
import { assertNotBlocked } from '../../chat/blocks';
import { requireParticipation } from '../../chat/conversation.service';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../lib/errors';
import { conversationAck, type SocketEventTable } from '../ack';
import { parseConversationRef } from '../payloads';
import { allConversationRooms, conversationRoom, userRoom } from '../rooms';
import type { ChatSocket } from '../socket-types';
import { inArrivalOrder, overtaken, type Arrival } from './event-order';

/**
 * Typing starts a user may send per second on one node. A person's client sends
 * one when typing starts (some, one per keystroke); without a bound, one
 * participant could flood the others (a test relayed 300 in 109 ms).
 */
export const TYPING_EVENTS_PER_SEC = 10;

/**
 * Typing stops a user may send per second on one node: never refused by a client
 * that keeps to the start budget, but bounded, since a stop may cost a read.
 */
const TYPING_STOPS_PER_SEC = TYPING_EVENTS_PER_SEC * 3;

/** Typing handlers with their own per-user budgets (in memory: a bound, not an accounting). */
export function typingHandlers(chat: ChatServices): SocketEventTable {
  const budgets = {
    start: new RateLimiterMemory({ points: TYPING_EVENTS_PER_SEC, duration: 1 }),
    stop: new RateLimiterMemory({ points: TYPING_STOPS_PER_SEC, duration: 1 }),
  };
  const relayWithin = async (arrival: Arrival, payload: unknown, typing: boolean) => {
    const socket = arrival.socket;
    const actor = socket.data.actor;
    const { conversationId } = parseConversationRef(payload, actor.id);
    try {
      await (typing ? budgets.start : budgets.stop).consume(actor.id);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      throw AppError.rateLimited(refusal.msBeforeNext, 'Too many typing events: slow down');
    }
    if (typing) {
      // The send's own check (cached per conversation, invalidated cluster-wide on
      // a block): nobody hears a typist they blocked.
      const conversation = await chat.participation.require(conversationId, actor.id);
      assertNotBlocked(conversation, actor.id);
    } else if (!allConversationRooms(conversationId).some((room) => socket.rooms.has(room))) {
      // A stop passes blocks, so an indicator shown before a block ends. A joined
      // room proves participation (removal makes sockets leave); else ask.
      await requireParticipation(conversationId, actor.id);
    }
    // Answered either way: the event was taken, a later one already said the opposite
    // (two starts out of order say the same thing, so both are relayed).
    if (overtaken(arrival, `typing:${conversationId}`, typing ? 'start' : 'stop')) {
      return conversationAck(conversationId);
    }
    return relay(socket, conversationId, typing);
  };
  const startTyping = (socket: ChatSocket, payload: unknown) =>
    inArrivalOrder(socket, (arrival) => relayWithin(arrival, payload, true));
  const stopTyping = (socket: ChatSocket, payload: unknown) =>
    inArrivalOrder(socket, (arrival) => relayWithin(arrival, payload, false));
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
  return conversationAck(conversationId);
}
