import type { Types } from 'mongoose';
import { Conversation } from '../../models';

/**
 * Unread counters: each member's unread count cached on the conversation, so the
 * conversation list needs no message query. A counter is trusted only while its
 * unread_valid is true, and it is kept exact by writes the service does anyway:
 *
 * - a send recorded in order (last_seq was seq - 1, no deletion since the send
 *   read the conversation) adds 1 for every other member below that seq, in the
 *   same update as last_message;
 * - anything else (out-of-order completion, a send whose update a crash lost, a
 *   deletion) clears unread_valid for everyone, before it could make a counter wrong;
 * - a read that reaches last_seq sets the reader's counter to 0 and valid again.
 *
 * Invalid counters fall back to counting messages (unread.ts), so a crash costs
 * speed, never a wrong count. Conversations stored before counters existed have
 * no deleted_count and never use them.
 */
export interface CountedConversation {
  _id: Types.ObjectId;
  deleted_count?: number | null;
}

export function countersEnabled(conversation: CountedConversation): boolean {
  return typeof conversation.deleted_count === 'number';
}

/** A member who starts with nothing unread in a new conversation. */
export const FRESH_COUNTER = { unread_count: 0, unread_valid: true } as const;

/** Clears every member's counter (before a change the counters cannot follow). */
export async function invalidateCounters(conversationId: Types.ObjectId): Promise<void> {
  await Conversation.collection.updateOne(
    { _id: conversationId },
    { $set: { 'members.$[].unread_valid': false } },
  );
}

/**
 * After `reader` moved their horizon to `readSeq`: their counter is 0 and valid
 * again if nothing above readSeq has been recorded (else it stays invalid until
 * a later read). The horizon itself must still be readSeq.
 */
export async function resetReaderCounter(
  conversation: CountedConversation,
  reader: Types.ObjectId,
  readSeq: number,
): Promise<void> {
  if (!countersEnabled(conversation)) return;
  await Conversation.collection.updateOne(
    { _id: conversation._id, last_seq: { $lte: readSeq } },
    { $set: { 'members.$[me].unread_count': 0, 'members.$[me].unread_valid': true } },
    { arrayFilters: [{ 'me.user_id': reader, 'me.read_seq': readSeq }] },
  );
}
