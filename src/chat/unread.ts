import { Types } from 'mongoose';
import { Message } from '../../models';

/** What the unread computation needs from a conversation. */
export interface ReadStateRecord {
  _id: Types.ObjectId;
  last_seq: number;
  members: Array<{ user_id: Types.ObjectId; read_seq: number }>;
}

export function readSeqOf(conversation: ReadStateRecord, userId: string): number {
  const member = conversation.members.find((m) => m.user_id.toString() === userId);
  return member?.read_seq ?? 0;
}

/**
 * Unread counts for one user across several conversations in a single query:
 * other people's live messages above the user's read horizon. Conversations whose
 * newest seq is at or below the horizon are skipped without touching messages.
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
    if (conversation.last_seq > readSeq) {
      clauses.push({ conversation_id: conversation._id, seq: { $gt: readSeq } });
    }
  }
  if (clauses.length === 0) return counts;
  const rows = await Message.aggregate<{ _id: Types.ObjectId; n: number }>([
    { $match: { $or: clauses, sender_id: { $ne: new Types.ObjectId(userId) }, deleted_at: null } },
    { $group: { _id: '$conversation_id', n: { $sum: 1 } } },
  ]);
  for (const row of rows) counts.set(row._id.toString(), row.n);
  return counts;
}
