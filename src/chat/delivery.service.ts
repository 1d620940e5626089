import { Types } from 'mongoose';
import { Message } from '../../models';
import type { ChangeClock } from './change-clock';
import type { ChatEvents } from './chat-events';

interface DeliveryCandidate {
  _id: Types.ObjectId;
  conversation_id: Types.ObjectId;
  sender_id: Types.ObjectId;
  seq: number;
}

export function createDeliveryService(events: ChatEvents, clock: ChangeClock) {
  return {
    /**
     * `sent` → `delivered` for messages a recipient's device received (an
     * acknowledged new_message, or a fetch). Never downgrades `read`, never
     * applies to the recipient's own messages; each sender hears about it once.
     * Returns the ids that changed.
     */
    async markDelivered(recipientId: string, messageIds: Array<Types.ObjectId | string>): Promise<string[]> {
      if (messageIds.length === 0) return [];
      const recipient = new Types.ObjectId(recipientId);
      const candidates = await Message.find(
        { _id: { $in: messageIds }, sender_id: { $ne: recipient }, status: 'sent', deleted_at: null },
        { _id: 1, conversation_id: 1, sender_id: 1, seq: 1 },
      ).lean<DeliveryCandidate[]>();
      if (candidates.length === 0) return [];
      const deliveredAt = await clock.stamp(async (at) => {
        await Message.updateMany(
          { _id: { $in: candidates.map((c) => c._id) }, status: 'sent' },
          { $set: { status: 'delivered', delivered_at: at, changed_at: at } },
        );
        return at;
      });
      for (const message of candidates) {
        events.messageDelivered({
          conversationId: message.conversation_id.toString(),
          messageId: message._id.toString(),
          seq: message.seq,
          senderId: message.sender_id.toString(),
          recipientId,
          deliveredAt,
        });
      }
      return candidates.map((c) => c._id.toString());
    },
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
