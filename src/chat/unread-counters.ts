import type { Types } from 'mongoose';
import { Conversation } from '../../models';

/**
 * Unread counters: each member's unread count cached on the conversation, so the
 * conversation list needs no message query. A counter is trusted only while its
 * unread_valid is true and the conversation's recorded_count equals its last_seq,
 * and it is kept exact by writes the service does anyway:
 *
 * - every send's update adds 1 for each other member whose horizon is below the
 *   message, whenever it lands, so out-of-order completion cannot skew it, and
 *   adds 1 to recorded_count (message-writes.ts);
 * - a send whose update a crash lost leaves recorded_count below last_seq once a
 *   later send is recorded: from then on that conversation is counted from messages;
 * - a deletion clears unread_valid for everyone before it happens;
 * - a read that reaches last_seq sets the reader's counter to 0 and valid again.
 *
 * Untrusted counters fall back to counting messages (unread.ts), so a crash costs
 * speed, never a wrong count. Conversations stored before counters existed have
 * no deleted_count (or no recorded_count) and never use them.
 */
export interface CountedConversation {
  _id: Types.ObjectId;
  deleted_count?: number | null;
}

/** Whether no recorded send is missing from the counters (see above). */
export function countersComplete(conversation: {
  last_seq: number;
  recorded_count?: number | null;
}): boolean {
  return conversation.recorded_count === conversation.last_seq;
}

export function countersEnabled(conversation: CountedConversation): boolean {
  return typeof conversation.deleted_count === 'number';
}

/** A member who starts with nothing unread in a new conversation. */
export const FRESH_COUNTER = { unread_count: 0, unread_valid: true } as const;

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
