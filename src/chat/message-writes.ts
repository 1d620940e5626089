import { Types } from 'mongoose';
import { Conversation, Message } from '../../models';
import { toLastMessageRecord, type MessageRecord } from './presenters';
import { countersEnabled, invalidateCounters, type CountedConversation } from './unread-counters';

/**
 * The writes of a send, through the driver: a send is the hottest path of the
 * service, and Mongoose's document construction, validation and casting cost
 * about as much CPU as the driver work itself (npm run bench, --profile). The
 * documents are exactly what the Mongoose models would store (same fields,
 * order and defaults); their inputs are validated by rules.ts beforehand.
 */
export interface NewMessage {
  conversationId: Types.ObjectId;
  senderId: string;
  text: string;
  seq: number;
  clientMessageId?: string;
  dedupeKey?: string;
  at: Date;
}

export type StoredMessage = MessageRecord & {
  dedupe_key?: string;
  delivered_at: Date | null;
  changed_at: Date;
};

/** The document of a new message, as models/message.model.ts stores it. */
export function newMessageDocument(input: NewMessage): StoredMessage {
  return {
    conversation_id: input.conversationId,
    sender_id: new Types.ObjectId(input.senderId),
    text: input.text,
    seq: input.seq,
    ...(input.clientMessageId === undefined
      ? {}
      : { client_message_id: input.clientMessageId, dedupe_key: input.dedupeKey }),
    is_read: false,
    read_at: null,
    status: 'sent',
    delivered_at: null,
    deleted_at: null,
    sent_at: input.at,
    changed_at: input.at,
    _id: new Types.ObjectId(),
  };
}

/** Inserts the message: the commit point of a send (unique (conversation_id, seq)). */
export async function insertMessage(doc: StoredMessage): Promise<void> {
  await Message.collection.insertOne(doc);
}

/**
 * Points last_message at this message unless a newer one got there first.
 * Conditional on seq, so out-of-order completion of concurrent sends is harmless.
 * In order (the common case) the same update counts the message as unread for the
 * other members; otherwise their counters are cleared (see unread-counters.ts).
 */
export async function recordLastMessage(
  conversation: CountedConversation,
  message: MessageRecord,
): Promise<void> {
  const set = {
    last_seq: message.seq,
    last_message: toLastMessageRecord(message),
    last_message_at: message.sent_at,
    last_activity_at: message.sent_at,
    // What the model's timestamps option adds to every update.
    updated_at: new Date(),
  };
  if (countersEnabled(conversation)) {
    const inOrder = await Conversation.collection.updateOne(
      {
        _id: conversation._id,
        last_seq: message.seq - 1,
        // A deletion since this send read the conversation could be in the counters' way.
        deleted_count: conversation.deleted_count,
      },
      { $set: set, $inc: { 'members.$[other].unread_count': 1 } },
      {
        arrayFilters: [
          { 'other.user_id': { $ne: message.sender_id }, 'other.read_seq': { $lt: message.seq } },
        ],
      },
    );
    if (inOrder.matchedCount === 1) return;
    await invalidateCounters(conversation._id);
  }
  await Conversation.collection.updateOne(
    { _id: conversation._id, last_seq: { $lt: message.seq } },
    { $set: set },
  );
}
