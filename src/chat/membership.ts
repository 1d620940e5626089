import { Types } from 'mongoose';
import { Conversation } from '../../models';
import { AppError } from '../lib/errors';
import { blocksAmong } from './block.service';
import type { ChatEvents } from './chat-events';
import {
  MAX_PARTICIPANTS,
  participantKey,
  requireParticipation,
  type StoredConversation,
} from './conversation-access';
import { isDuplicateKey } from './db-errors';
import { sameId } from './ids';
import type { ParticipationCache } from './participation-cache';
import type { Actor, ConversationView } from './types';
import { countExistingUsers } from './user.service';

/**
 * Adding and removing participants. `present` answers with the conversation as
 * the caller sees it (conversation.service.ts).
 */
export function createMembershipChanges(
  events: ChatEvents,
  participation: ParticipationCache,
  present: (actor: Actor, conversationId: string) => Promise<ConversationView>,
) {
  async function addParticipantsOnce(
    actor: Actor,
    conversationId: string,
    userIds: string[],
  ): Promise<ConversationView> {
    const stored = await requireParticipation(conversationId, actor.id);
    const added = [...new Set(userIds)].filter(
      (id) => !stored.participants.some((p) => sameId(p, id)),
    );
    if (added.length === 0) return present(actor, conversationId);
    if (stored.participants.length + added.length > MAX_PARTICIPANTS) {
      throw new AppError(
        'VALIDATION_FAILED',
        `A conversation has at most ${MAX_PARTICIPANTS} participants`,
      );
    }
    if ((await countExistingUsers(added)) !== added.length) throw new AppError('USER_NOT_FOUND');
    const participants = [...stored.participants.map(String), ...added];
    // The conversation's blocks become those among its new members, as a new
    // conversation's are: a newcomer's blocks count in sends, and a pair an
    // unblock could not reach (one of the two had left) is gone. As there,
    // someone who blocked the caller cannot be pulled in by them.
    const blocks = await blocksAmong(participants);
    const newcomerBlockedCaller = blocks.some(
      (pair) =>
        sameId(pair.blocked_id, actor.id) && added.some((id) => sameId(pair.blocker_id, id)),
    );
    if (newcomerBlockedCaller) throw new AppError('BLOCKED');
    await updateMembership(stored, participants, {
      $set: { blocks },
      $push: {
        participants: { $each: added.map((id) => new Types.ObjectId(id)) },
        members: {
          $each: added.map((id) => ({
            user_id: id,
            read_seq: stored.last_seq,
            last_read_at: null,
            // A send may be recorded between our read of last_seq and this push:
            // the counter is untrusted until their first read (unread-counters.ts).
            unread_valid: false,
          })),
        },
      },
    });
    await participation.invalidate({ conversationId: stored._id.toString() });
    events.participantsChanged({
      conversationId: stored._id.toString(),
      participantIds: participants,
      added,
      removed: [],
    });
    return present(actor, conversationId);
  }

  async function removeParticipantOnce(
    actor: Actor,
    conversationId: string,
    userId: string,
  ): Promise<{ removed: string }> {
    const stored = await requireParticipation(conversationId, actor.id);
    if (userId !== actor.id && !sameId(managerOf(stored), actor.id)) {
      throw new AppError(
        'FORBIDDEN',
        'Only the conversation creator (or, once they have left, its longest-standing member) can remove other participants',
      );
    }
    if (!stored.participants.some((p) => sameId(p, userId)))
      throw new AppError('USER_NOT_FOUND', 'Not a participant');
    const participants = stored.participants.map(String).filter((id) => id !== userId);
    const userObjectId = new Types.ObjectId(userId);
    await updateMembership(stored, participants, {
      $pull: { participants: userObjectId, members: { user_id: userObjectId } },
    });
    // The removed user's sockets leave first (the stored id, not the caller's
    // spelling of it, names the rooms): the invalidation below can wait seconds
    // for a slow node, and the conversation's traffic must not reach them meanwhile.
    events.participantsChanged({
      conversationId: stored._id.toString(),
      participantIds: participants,
      added: [],
      removed: [userId],
    });
    // Answered only once no node would still let the removed user send.
    await participation.invalidate({ conversationId: stored._id.toString() });
    return { removed: userId };
  }

  return {
    /** Adds people to a conversation; any participant may. New members start with nothing unread. */
    addParticipants(
      actor: Actor,
      conversationId: string,
      userIds: string[],
    ): Promise<ConversationView> {
      return retriedOnConcurrentChange(() => addParticipantsOnce(actor, conversationId, userIds));
    },

    /**
     * Removes a participant. Anyone may leave; only the conversation's manager
     * removes others (managerOf). The removed user's sockets stop receiving the
     * conversation's events.
     */
    removeParticipant(
      actor: Actor,
      conversationId: string,
      userId: string,
    ): Promise<{ removed: string }> {
      return retriedOnConcurrentChange(() => removeParticipantOnce(actor, conversationId, userId));
    },
  };
}

/**
 * Who may remove other participants: the creator while a member, else the
 * longest-standing member (participants keep the order they joined in). Without
 * a successor, a group whose creator left could never remove anyone again.
 */
function managerOf(stored: StoredConversation): Types.ObjectId | undefined {
  const creatorStays = stored.participants.some((p) => sameId(p, stored.created_by));
  return creatorStays ? stored.created_by : stored.participants[0];
}

/** A membership change lost a race with another one (updateMembership's guard). */
class ConcurrentMembershipChange extends AppError {
  constructor() {
    super('CONFLICT', 'Participants changed concurrently; retry');
  }
}

/** Attempts of one membership change against concurrent ones before answering 409. */
const MEMBERSHIP_ATTEMPTS = 5;

/**
 * Runs a membership change again, from a fresh read, when another change got in
 * between its read and its write: two members added at once both get in, instead
 * of one of the two callers getting a 409 to retry by hand.
 */
async function retriedOnConcurrentChange<T>(change: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await change();
    } catch (err) {
      if (!(err instanceof ConcurrentMembershipChange) || attempt >= MEMBERSHIP_ATTEMPTS) throw err;
    }
  }
}

/**
 * Applies a membership change and re-keys the conversation. When another
 * conversation already owns the new participant set (a member leaves a group
 * whose remaining members also have their own 1:1), that one stays the
 * get-or-create target and this one takes a key of its own: leaving or adding
 * must never fail because of someone else's conversation.
 */
async function updateMembership(
  stored: StoredConversation & { participant_key?: string },
  participants: string[],
  change: Record<string, unknown>,
): Promise<void> {
  const canonical = participantKey(participants, stored.listing_id ?? null);
  const apply = (key: string) =>
    Conversation.updateOne(
      // The exact list read (order included): an add and a removal of others landing
      // in between keep the size and would pass a size check, yet change who manages.
      { _id: stored._id, participants: stored.participants },
      { ...change, $set: { ...(change.$set as object | undefined), participant_key: key } },
    );
  let result;
  try {
    result = await apply(canonical);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    result = await apply(`${canonical}#${stored._id.toString()}`);
  }
  if (result.matchedCount === 0) throw new ConcurrentMembershipChange();
}
