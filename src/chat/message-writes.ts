import { Types, type mongo } from 'mongoose';
import { Conversation, Message } from '../../models';
import type { ErrorReporter } from './chat-events';
import { GroupCommit } from './group-commit';
import { retryLater } from './retry-later';
import { toLastMessageRecord, type MessageRecord } from './presenters';
import { countersEnabled, type CountedConversation } from './unread-counters';

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

/**
 * Group commit (group-commit.ts) of the two writes of a send. Under load the
 * writes that queue behind the commands in flight leave as one command.
 * Measured (npm run bench, send): server CPU per message at 3,400-4,700 msg/s
 * fell from ~520 to 180-250 µs, the floor relay's own level.
 *
 * Inserts may have a few commands out at once: the insert is on the path to
 * delivery, and with one at a time a message arriving while another's insert
 * was out waited for that round trip before its own. At 200 msg/s that was
 * about one message in ten, and after any stall a whole queue. Send → deliver
 * p99, the same runs with a second product server as a third arm: 1.50×,
 * 1.20×, 0.99× the floor with four inserts in flight against 1.76×, 1.41×,
 * 1.47× with one. The conversation update is not on that path (delivery does
 * not wait for it), so it keeps one command in flight and batches sooner.
 */
const INSERTS_IN_FLIGHT = 4;
const UPDATES_IN_FLIGHT = 1;
/** Bounds one command (and the wait of the writes at its end). */
const MAX_BATCH = 256;

const messageInserts = new GroupCommit<StoredMessage>({
  writeOne: (doc) => Message.collection.insertOne(doc),
  writeMany: (docs) => Message.collection.insertMany(docs, { ordered: false }),
  maxInFlight: INSERTS_IN_FLIGHT,
  maxBatch: MAX_BATCH,
});

interface ConversationUpdate {
  filter: { _id: Types.ObjectId };
  update: mongo.UpdateFilter<mongo.Document>;
  arrayFilters?: mongo.Document[];
}

const conversationUpdates = new GroupCommit<ConversationUpdate>({
  writeOne: ({ filter, update, arrayFilters }) =>
    Conversation.collection.updateOne(filter, update, arrayFilters ? { arrayFilters } : {}),
  writeMany: (updates) =>
    Conversation.collection.bulkWrite(
      updates.map((updateOne) => ({ updateOne })),
      { ordered: false },
    ),
  maxInFlight: UPDATES_IN_FLIGHT,
  maxBatch: MAX_BATCH,
});

/** Inserts the message: the commit point of a send (unique (conversation_id, seq)). */
export function insertMessage(doc: StoredMessage): Promise<void> {
  return messageInserts.write(doc);
}

/**
 * A message's deletion state, read by its _id: undefined when it is not stored,
 * null while it is live, else when it was deleted (read-backs of lost replies).
 */
export async function deletedAtOf(id: Types.ObjectId): Promise<Date | null | undefined> {
  const found = await Message.collection.findOne<{ deleted_at?: Date | null }>(
    { _id: id },
    { projection: { deleted_at: 1 } },
  );
  return found ? (found.deleted_at ?? null) : undefined;
}

/**
 * Stamps a message as changed now: a write found landed only after the sync
 * horizon passed its own stamp would otherwise never reach a client's /sync.
 */
export async function restampMessage(id: Types.ObjectId, at: Date): Promise<void> {
  await Message.collection.updateOne({ _id: id }, { $set: { changed_at: at } });
}

/**
 * Records a stored message on its conversation in one order-independent update
 * by _id: last_seq, last_message and the activity times only ever move forward
 * ($max; last_message compares by its leading seq), and the message counts as
 * unread for every other member whose horizon is below it, whenever the update
 * lands. So concurrent sends completing out of order need no condition and no
 * second round trip, and the filter is the _id alone, which the emulator serves
 * from its index (it scans for an updateOne filtered on more). recorded_count
 * lets readers notice an update that a crash lost (see unread-counters.ts).
 */
export async function recordLastMessage(
  conversation: CountedConversation,
  message: MessageRecord,
): Promise<void> {
  const counted = countersEnabled(conversation);
  await conversationUpdates.write({
    filter: { _id: conversation._id },
    update: {
      ...lastMessageForward(message),
      ...(counted ? { $inc: { 'members.$[other].unread_count': 1, recorded_count: 1 } } : {}),
    },
    ...(counted
      ? {
          arrayFilters: [
            {
              'other.user_id': { $ne: message.sender_id },
              'other.read_seq': { $lt: message.seq },
            },
          ],
        }
      : {}),
  });
}

/** The order-independent part of recording a message: every field only moves forward. */
function lastMessageForward(message: MessageRecord) {
  return {
    $max: {
      last_seq: message.seq,
      last_message: toLastMessageRecord(message),
      last_message_at: message.sent_at,
      last_activity_at: message.sent_at,
    },
    // What the model's timestamps option adds to every update.
    $set: { updated_at: new Date() },
  };
}

/** Conversations with a background record pending, and the newest message it must record. */
const pendingRecords = new Map<string, { message: MessageRecord }>();

/**
 * After a send's update failed (the message itself is stored and announced):
 * records the message in the background with the forward-only fields alone,
 * until an attempt lands (retry-later.ts). Idempotent, so harmless if the failed
 * update did land after all. Without the counter increment, last_seq moves past
 * recorded_count, so the conversation's unread counters stop being trusted and
 * are counted from messages instead (unread-counters.ts): never a wrong count.
 * One pending record per conversation, carrying its newest message (the only one
 * $max keeps), so an outage does not start a retry chain per message. If the
 * message was deleted meanwhile, last_message is repaired after it lands.
 */
export function recordLastMessageLater(
  conversation: CountedConversation,
  message: MessageRecord,
  report: ErrorReporter,
): void {
  const key = conversation._id.toString();
  const pending = pendingRecords.get(key);
  if (pending) {
    if (message.seq > pending.message.seq) pending.message = message;
    return;
  }
  const entry = { message };
  pendingRecords.set(key, entry);
  const write = async () => {
    const newest = entry.message;
    await Conversation.collection.updateOne({ _id: conversation._id }, lastMessageForward(newest));
    if (await Message.exists({ _id: newest._id, deleted_at: { $ne: null } })) {
      await repairLastMessage(conversation._id, newest._id);
    }
  };
  void retryLater(write, report, `recording the newest message of conversation ${key}`).finally(
    () => pendingRecords.delete(key),
  );
}

/** After a delete: if the deleted message was last_message, fall back to the newest live one. */
export async function repairLastMessage(
  conversationId: Types.ObjectId,
  deletedId: Types.ObjectId,
): Promise<void> {
  const live = await Message.findOne({ conversation_id: conversationId, deleted_at: null })
    .sort({ seq: -1 })
    .lean<MessageRecord>();
  await Conversation.updateOne(
    { _id: conversationId, 'last_message.message_id': deletedId },
    // last_message_at follows last_message, so a deleted message's time never shows either.
    {
      $set: {
        last_message: live ? toLastMessageRecord(live) : null,
        last_message_at: live?.sent_at ?? null,
      },
    },
  );
}
