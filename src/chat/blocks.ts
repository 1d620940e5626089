import type { Types } from 'mongoose';
import { AppError } from '../lib/errors';
import { sameId } from './ids';

export interface BlockPair {
  blocker_id: Types.ObjectId;
  blocked_id: Types.ObjectId;
}

/** Refuses a send when another participant of the conversation has blocked the sender. */
export function assertNotBlocked(
  conversation: { participants: Types.ObjectId[]; blocks?: BlockPair[] | null },
  senderId: string,
): void {
  const blocked = (conversation.blocks ?? []).some(
    (b) =>
      sameId(b.blocked_id, senderId) &&
      conversation.participants.some((p) => sameId(p, b.blocker_id)),
  );
  if (blocked) throw new AppError('BLOCKED');
}
