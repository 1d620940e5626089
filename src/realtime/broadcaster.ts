import type { ChatEventHub } from '../chat';
import { toKarmyqMessageView, toMessageView } from '../chat/presenters';
import { allConversationRooms, conversationRoom, userRoom } from './rooms';
import type { ChatServer } from './socket-types';

export const PREVIEW_LENGTH = 60;

/**
 * The events sent to conversation rooms (typing aside, never replayed); every
 * other event goes to a user's personal room, addressed by participant list.
 * Connection state recovery replays the first kind only for conversations the
 * user still takes part in (checked-recovery.ts).
 */
export const CONVERSATION_ROOM_EVENTS: ReadonlySet<string> = new Set([
  'new_message',
  'message_deleted',
]);

/**
 * The first PREVIEW_LENGTH characters (code points, so an emoji is never cut in
 * half into a lone surrogate that renders as garbage).
 */
export function previewOf(text: string): string {
  if (text.length <= PREVIEW_LENGTH) return text;
  let end = 0;
  for (let count = 0; count < PREVIEW_LENGTH && end < text.length; count++) {
    const unit = text.charCodeAt(end);
    const next = text.charCodeAt(end + 1); // NaN past the end
    const isPair = unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    end += isPair ? 2 : 1;
  }
  return text.slice(0, end);
}

/**
 * Turns committed domain events into Socket.IO events. Because REST and socket
 * sends both go through the services, both produce exactly these emits.
 */
export function attachBroadcaster(io: ChatServer, events: ChatEventHub): () => void {
  return events.subscribe({
    messageCreated({ conversationId, participantIds, message, sender }) {
      const recipients = participantIds.filter((id) => id !== sender._id);
      // To the room, the sender included (seed), each dialect in its own shape. Plain
      // broadcasts, so connection state recovery can replay them to a socket that dropped.
      io.to(conversationRoom(conversationId, 'horse_trust')).emit(
        'new_message',
        toMessageView(message, sender),
      );
      io.to(conversationRoom(conversationId, 'karmyq')).emit(
        'new_message',
        toKarmyqMessageView(message, sender),
      );
      // A notification to every other participant's devices, joined or not.
      if (recipients.length > 0) {
        io.to(recipients.map(userRoom)).emit('message_notification', {
          conversation_id: conversationId,
          sender: sender._id,
          preview: previewOf(message.text),
          message_id: message._id.toString(),
          seq: message.seq,
        });
      }
    },

    messageDelivered({ conversationId, messageId, seq, senderId, recipientId, deliveredAt }) {
      io.to(userRoom(senderId)).emit('message_delivered', {
        conversation_id: conversationId,
        message_id: messageId,
        seq,
        delivered_to: recipientId,
        delivered_at: deliveredAt.toISOString(),
        status: 'delivered',
      });
    },

    messagesRead({ conversationId, participantIds, readerId, upToSeq, upToMessageId, readAt }) {
      const others = participantIds.filter((id) => id !== readerId).map(userRoom);
      if (others.length === 0) return;
      io.to(others).emit('messages_read', {
        conversation_id: conversationId,
        reader_id: readerId,
        read_up_to_seq: upToSeq,
        read_up_to_message_id: upToMessageId,
        read_at: readAt.toISOString(),
      });
    },

    messageDeleted({ conversationId, messageId, seq, deletedAt }) {
      io.to(allConversationRooms(conversationId)).emit('message_deleted', {
        _id: messageId,
        id: messageId,
        conversation_id: conversationId,
        seq,
        deleted_at: deletedAt.toISOString(),
      });
    },

    participantsChanged({ conversationId, removed }) {
      for (const userId of removed) {
        // Every socket of a removed user leaves, on every node (adapter-wide).
        io.in(userRoom(userId)).socketsLeave(allConversationRooms(conversationId));
        io.to(userRoom(userId)).emit('removed_from_conversation', {
          conversation_id: conversationId,
        });
      }
    },
  });
}
