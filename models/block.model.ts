import { Schema, model, type InferSchemaType } from 'mongoose';

/** `blocker_id` blocked `blocked_id`: the source of truth for blocks. */
const blockSchema = new Schema(
  {
    blocker_id: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    blocked_id: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    created_at: { type: Date, required: true, default: () => new Date() },
  },
  { collection: 'blocks', versionKey: false },
);

// One block per pair; also serves GET /blocks (the blocker's list) by prefix.
blockSchema.index({ blocker_id: 1, blocked_id: 1 }, { unique: true });

export type BlockFields = InferSchemaType<typeof blockSchema>;
export const Block = model('Block', blockSchema);
