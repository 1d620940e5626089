/** What every conversation operation starts from: the stored shape, its identity key, the participation check. */
import type { Types } from 'mongoose';
import { Conversation } from '../../models';
import { AppError } from '../lib/errors';
import type { BlockPair } from './blocks';
import { parseObjectId } from './ids';
import type { ConversationRecord } from './presenters';
import type { ReadStateRecord } from './unread';

export const MAX_PARTICIPANTS = 50;

export type StoredConversation = ConversationRecord &
  ReadStateRecord & {
    created_by: Types.ObjectId;
    last_activity_at: Date;
    blocks?: BlockPair[];
    deleted_count?: number | null;
  };

/** Canonical key of a participant set + listing: the get-or-create identity. */
export function participantKey(participantIds: string[], listingId: string | null): string {
  return `${[...participantIds].sort().join(',')}|${listingId ?? ''}`;
}

/**
 * The conversation a user takes part in, or 404: a non-participant learns nothing
 * about whether the conversation exists.
 */
export async function requireParticipation(
  conversationId: string,
  userId: string,
): Promise<StoredConversation> {
  // Every send, fetch and receipt starts here: the driver directly, as a lean query
  // would return the same document at about twice the CPU (npm run bench, profile).
  const conversation = await Conversation.collection.findOne<StoredConversation>({
    _id: parseObjectId(conversationId, 'conversation_id'),
    participants: parseObjectId(userId, 'user_id'),
  });
  if (!conversation) throw new AppError('CONVERSATION_NOT_FOUND');
  return conversation;
}

/**
 * The conversation's participants now: an announcement made seconds after its
 * request (a lost reply found applied later) goes to these, not to a list read
 * before someone was removed.
 */
export async function currentParticipants(
  conversationId: Types.ObjectId,
): Promise<Types.ObjectId[]> {
  const found = await Conversation.collection.findOne<{ participants?: Types.ObjectId[] }>(
    { _id: conversationId },
    { projection: { participants: 1 } },
  );
  return found?.participants ?? [];
}
