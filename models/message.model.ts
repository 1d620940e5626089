import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const MESSAGE_TEXT_MAX = 2000;
export const MESSAGE_STATUSES = ['sent', 'delivered', 'read'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

const messageSchema = new Schema(
  {
    conversation_id: { type: Schema.Types.ObjectId, ref: 'Conversation', required: true },
    sender_id: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    text: { type: String, required: true, trim: true, minlength: 1, maxlength: MESSAGE_TEXT_MAX },
    /** Position in the conversation: 1, 2, 3… with no gaps; the insert is the commit point. */
    seq: { type: Number, required: true },
    /** Client-chosen id that makes retries idempotent (see dedupe_key). */
    client_message_id: { type: String, default: undefined },
    /** `${sender_id}:${client_message_id}`, present only when the client sent an id. */
    dedupe_key: { type: String, default: undefined },
    is_read: { type: Boolean, default: false },
    read_at: { type: Date, default: null },
    status: { type: String, enum: MESSAGE_STATUSES, default: 'sent' },
    delivered_at: { type: Date, default: null },
    /**
     * Which acknowledgement moved it to `delivered` (an id per call): when calls
     * race, each announces only the messages its own update changed.
     */
    delivery_mark: { type: Schema.Types.ObjectId, default: undefined },
    deleted_at: { type: Date, default: null },
    sent_at: { type: Date, required: true, default: () => new Date() },
    /** Last time anything about the message changed (created, delivered, read, deleted): the /sync key. */
    changed_at: { type: Date, required: true, default: () => new Date() },
  },
  { collection: 'messages', versionKey: false },
);

// History pages (sort by seq), next-seq lookup, and unread counts (seq above a read horizon).
// Unique: two sends can never share a position, which is what keeps seq gapless without a transaction.
messageSchema.index({ conversation_id: 1, seq: -1 }, { unique: true });
// Idempotent sends: one message per (sender, client_message_id). Sparse: most messages have none.
messageSchema.index({ dedupe_key: 1 }, { unique: true, sparse: true });
// GET /sync: what changed in these conversations after a (changed_at, _id) cursor, in that order.
messageSchema.index({ conversation_id: 1, changed_at: 1, _id: 1 });

export type MessageFields = InferSchemaType<typeof messageSchema>;
export type MessageDocument = HydratedDocument<MessageFields>;
export const Message = model('Message', messageSchema);
