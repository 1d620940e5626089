import { Types } from 'mongoose';
import { Message } from '../../models';
import { countersComplete, countersEnabled } from './unread-counters';

/** What the unread computation needs from a conversation. */
export interface ReadStateRecord {
  _id: Types.ObjectId;
  last_seq: number;
  deleted_count?: number | null;
  recorded_count?: number | null;
  members: Array<{
    user_id: Types.ObjectId;
    read_seq: number;
    unread_count?: number | null;
    unread_valid?: boolean | null;
  }>;
}

export function readSeqOf(conversation: ReadStateRecord, userId: string): number {
  const member = conversation.members.find((m) => m.user_id.toString() === userId);
  return member?.read_seq ?? 0;
}

/** The member's unread counter, when it can be trusted (unread-counters.ts). */
function trustedCounter(conversation: ReadStateRecord, userId: string): number | null {
  if (!countersEnabled(conversation) || !countersComplete(conversation)) return null;
  const member = conversation.members.find((m) => m.user_id.toString() === userId);
  if (member?.unread_valid !== true || typeof member.unread_count !== 'number') return null;
  return member.unread_count;
}

/**
 * Unread counts for one user across several conversations: other people's live
 * messages above the user's read horizon. Conversations whose newest seq is at or
 * below the horizon are skipped, trusted counters are read as they are, and the
 * rest are counted from messages in a single query.
 */
export async function unreadCounts(
  userId: string,
  conversations: ReadStateRecord[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const clauses = [];
  for (const conversation of conversations) {
    counts.set(conversation._id.toString(), 0);
    const readSeq = readSeqOf(conversation, userId);
    if (conversation.last_seq <= readSeq) continue;
    const counter = trustedCounter(conversation, userId);
    if (counter !== null) counts.set(conversation._id.toString(), counter);
    else clauses.push({ conversation_id: conversation._id, seq: { $gt: readSeq } });
  }
  if (clauses.length === 0) return counts;
  const rows = await Message.collection
    .aggregate<{ _id: Types.ObjectId; n: number }>([
      {
        $match: { $or: clauses, sender_id: { $ne: new Types.ObjectId(userId) }, deleted_at: null },
      },
      { $group: { _id: '$conversation_id', n: { $sum: 1 } } },
    ])
    .toArray();
  for (const row of rows) counts.set(row._id.toString(), row.n);
  return counts;
}
