import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

/**
 * A member's read state. Everything with seq <= read_seq is read by this member,
 * so a member's unread count is the number of other people's live messages above
 * it: exact in groups. unread_count caches it (see src/chat/unread-counters.ts),
 * trusted only while unread_valid: every path that could make it wrong clears
 * unread_valid first, so a crash can leave it stale but never trusted.
 */
const memberSchema = new Schema(
  {
    user_id: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    read_seq: { type: Number, default: 0 },
    last_read_at: { type: Date, default: null },
    /** Other people's live messages in (read_seq, last_seq]; absent on older documents. */
    unread_count: { type: Number },
    unread_valid: { type: Boolean },
  },
  { _id: false },
);

const lastMessageSchema = new Schema(
  {
    // seq first: a send records last_message with $max, and MongoDB compares
    // embedded documents field by field in order, so the highest seq wins.
    seq: { type: Number, required: true },
    message_id: { type: Schema.Types.ObjectId, required: true },
    text: { type: String, required: true },
    sender_id: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    sent_at: { type: Date, required: true },
    is_read: { type: Boolean, default: false },
  },
  { _id: false },
);

const conversationSchema = new Schema(
  {
    participants: {
      type: [{ type: Schema.Types.ObjectId, ref: 'User' }],
      required: true,
    },
    /**
     * Sorted participant ids plus listing id. Its unique index makes get-or-create
     * race-free: concurrent creators collide on insert instead of both inserting.
     */
    participant_key: { type: String, required: true },
    listing_id: { type: String, default: null },
    created_by: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    members: { type: [memberSchema], default: [] },
    /** Highest message seq handed out so far (a hint; messages hold the truth). */
    last_seq: { type: Number, default: 0 },
    last_message: { type: lastMessageSchema, default: null },
    /**
     * How many messages were ever soft-deleted here (raised before each delete, so
     * never below the truth). 0 means seqs 1..newest are all live, and history
     * page p is a plain seq range instead of a skip. Deliberately no default:
     * conversations stored before it was tracked lack it, and take the skip path.
     */
    deleted_count: { type: Number },
    /**
     * How many sends have been recorded here (each send's update adds one). Equal
     * to last_seq when no send's update was lost (seqs are gapless): the unread
     * counters are trusted only then (chat/unread-counters.ts). Absent on older documents.
     */
    recorded_count: { type: Number },
    /**
     * Blocks between participants, copied from the blocks collection so that a
     * send checks them without another query.
     */
    blocks: {
      type: [
        new Schema(
          {
            blocker_id: { type: Schema.Types.ObjectId, required: true },
            blocked_id: { type: Schema.Types.ObjectId, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    /** Sort key of the conversation list: creation, then every new message. */
    last_message_at: { type: Date, default: null },
    last_activity_at: { type: Date, required: true, default: () => new Date() },
  },
  {
    collection: 'conversations',
    timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' } as const,
  },
);

// get-or-create: find/insert by the participant set + listing.
conversationSchema.index({ participant_key: 1 }, { unique: true });
// GET /conversations: a user's conversations by most recent activity, with a stable tie-break.
conversationSchema.index({ participants: 1, last_activity_at: -1, _id: -1 });

export type ConversationFields = InferSchemaType<typeof conversationSchema>;
export type ConversationDocument = HydratedDocument<ConversationFields>;
export const Conversation = model('Conversation', conversationSchema);
