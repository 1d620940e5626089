import { Types } from 'mongoose';
import { Message } from '../../models';
import type { ChangeClock } from './change-clock';
import type { ChatEvents } from './chat-events';
import { sameId } from './ids';
import type { ParticipationCache } from './participation-cache';
import type { Actor } from './types';

/** Bounds one acknowledgement's work; a client acknowledging more calls again. */
const MAX_ACKNOWLEDGED = 500;

interface DeliveryCandidate {
  _id: Types.ObjectId;
  conversation_id: Types.ObjectId;
  sender_id: Types.ObjectId;
  seq: number;
}

export function createDeliveryService(
  events: ChatEvents,
  clock: ChangeClock,
  participation: ParticipationCache,
) {
  return {
    /**
     * A recipient's device acknowledges messages of one conversation, by id or
     * everything up to a seq. Participants only (404 otherwise).
     */
    async acknowledge(
      actor: Actor,
      conversationId: string,
      received: { messageIds?: string[]; upToSeq?: number },
    ): Promise<string[]> {
      // Every received message can be acknowledged: the cached check, as for a send.
      const conversation = await participation.require(conversationId, actor.id);
      const filter: Record<string, unknown> = {
        conversation_id: conversation._id,
        // Others' messages only, before the limit: 500 of one's own would fill it.
        sender_id: { $ne: new Types.ObjectId(actor.id) },
        status: 'sent',
        deleted_at: null,
      };
      if (received.messageIds) filter._id = { $in: received.messageIds };
      else filter.seq = { $lte: received.upToSeq ?? 0 };
      // Oldest first, so that a client acknowledging more than the limit calls again
      // and progresses.
      const ids = await Message.find(filter, { _id: 1 })
        .sort({ seq: 1 })
        .limit(MAX_ACKNOWLEDGED)
        .lean<Array<{ _id: Types.ObjectId }>>();
      return this.markDelivered(
        actor.id,
        ids.map((m) => m._id),
        () => conversation.participants,
      );
    },

    /**
     * `sent` → `delivered` for messages a recipient's device received (an
     * acknowledged new_message, or a fetch). Never downgrades `read`, never
     * applies to the recipient's own messages; each sender hears about it once,
     * even when devices acknowledge at once, and never after a read. Returns the
     * ids that changed. `restamp: false` leaves the messages' place in the /sync
     * change order alone (for deliveries made by a sync, which already returns them).
     * `participantsOf` names each conversation's current participants: a sender
     * who has left or was removed hears nothing more of the conversation.
     */
    async markDelivered(
      recipientId: string,
      messageIds: Array<Types.ObjectId | string>,
      participantsOf: (conversationId: string) => readonly Types.ObjectId[],
      options: { restamp?: boolean } = {},
    ): Promise<string[]> {
      if (messageIds.length === 0) return [];
      const recipient = new Types.ObjectId(recipientId);
      const candidates = await Message.find(
        {
          _id: { $in: messageIds },
          sender_id: { $ne: recipient },
          status: 'sent',
          deleted_at: null,
        },
        { _id: 1, conversation_id: 1, sender_id: 1, seq: 1 },
      ).lean<DeliveryCandidate[]>();
      if (candidates.length === 0) return [];
      const restamp = options.restamp ?? true;
      const mark = new Types.ObjectId();
      const write = async (at: Date) => {
        const result = await Message.updateMany(
          { _id: { $in: candidates.map((c) => c._id) }, status: 'sent' },
          {
            $set: {
              status: 'delivered',
              delivered_at: at,
              delivery_mark: mark,
              ...(restamp ? { changed_at: at } : {}),
            },
          },
        );
        return { at, changed: result.modifiedCount };
      };
      const { at: deliveredAt, changed } = restamp
        ? await clock.stamp(write)
        : await write(new Date());
      const delivered =
        changed === candidates.length ? candidates : await markedBy(mark, candidates);
      for (const message of delivered) {
        const conversationId = message.conversation_id.toString();
        if (!participantsOf(conversationId).some((p) => sameId(p, message.sender_id))) continue;
        events.messageDelivered({
          conversationId,
          messageId: message._id.toString(),
          seq: message.seq,
          senderId: message.sender_id.toString(),
          recipientId,
          deliveredAt,
        });
      }
      return delivered.map((c) => c._id.toString());
    },
  };
}

/**
 * The candidates this call's update changed, when it changed fewer than all: another
 * device's acknowledgement or a read got to the others first (they announce them).
 */
async function markedBy(
  mark: Types.ObjectId,
  candidates: DeliveryCandidate[],
): Promise<DeliveryCandidate[]> {
  const mine = await Message.collection
    .find<{ _id: Types.ObjectId }>(
      { _id: { $in: candidates.map((c) => c._id) }, delivery_mark: mark },
      { projection: { _id: 1 } },
    )
    .toArray();
  const ids = new Set(mine.map((m) => m._id.toString()));
  return candidates.filter((c) => ids.has(c._id.toString()));
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
