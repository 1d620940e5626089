import { Types } from 'mongoose';
import { Conversation } from '../../models';
import { AppError } from '../lib/errors';
import type { RateLimits } from '../lib/rate-limits';
import { blocksAmong } from './block.service';
import type { BlockPair } from './blocks';
import type { ChatEvents } from './chat-events';
import type { ParticipationCache } from './participation-cache';
import { decodeCursor, encodeCursor } from './cursor';
import { isDuplicateKey } from './db-errors';
import { parseObjectId, sameId } from './ids';
import { toConversationView, type ConversationRecord } from './presenters';
import { storable } from './rules';
import type { Actor, ConversationView } from './types';
import { countExistingUsers, profilesFor } from './user.service';
import { unreadCounts, type ReadStateRecord } from './unread';
import { FRESH_COUNTER } from './unread-counters';

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

async function presentMany(
  conversations: StoredConversation[],
  userId: string,
): Promise<ConversationView[]> {
  const [profiles, counts] = await Promise.all([
    profilesFor(conversations.flatMap((c) => c.participants)),
    unreadCounts(userId, conversations),
  ]);
  return conversations.map((c) =>
    toConversationView(c, profiles, counts.get(c._id.toString()) ?? 0),
  );
}

export function createConversationService(
  events: ChatEvents,
  limits: RateLimits,
  participation: ParticipationCache,
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
    if (added.length === 0) return service.get(actor, conversationId);
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
    return service.get(actor, conversationId);
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

  const service = {
    /**
     * Get-or-create the conversation between the caller and `participantIds` about
     * `listingId`. Race-free: the unique participant_key decides, not a prior read.
     */
    async getOrCreate(
      actor: Actor,
      input: { participantIds: string[]; listingId: string | null },
    ): Promise<{ conversation: ConversationView; created: boolean }> {
      const participants = [...new Set([actor.id, ...input.participantIds])];
      if (participants.length < 2) {
        throw new AppError(
          'VALIDATION_FAILED',
          'A conversation needs at least one other participant',
          [{ field: 'recipient_id', message: 'must name someone other than yourself' }],
        );
      }
      if (participants.length > MAX_PARTICIPANTS) {
        throw new AppError(
          'VALIDATION_FAILED',
          `A conversation has at most ${MAX_PARTICIPANTS} participants`,
        );
      }
      const others = participants.filter((id) => id !== actor.id);
      if ((await countExistingUsers(others)) !== others.length)
        throw new AppError('USER_NOT_FOUND');

      const listingId = input.listingId === null ? null : storable(input.listingId);
      const key = participantKey(participants, listingId);
      let created = false;
      let stored = await Conversation.findOne({ participant_key: key }).lean<StoredConversation>();
      if (!stored) {
        await limits.consume('create_conversation', actor.id);
        const blocks = await blocksAmong(participants);
        // Someone who blocked the caller cannot be pulled into a new conversation by them.
        if (blocks.some((b) => sameId(b.blocked_id, actor.id))) throw new AppError('BLOCKED');
        try {
          const now = new Date();
          const doc = await Conversation.create({
            participants,
            participant_key: key,
            listing_id: listingId,
            created_by: actor.id,
            members: participants.map((id) => ({ user_id: id, read_seq: 0, ...FRESH_COUNTER })),
            blocks,
            // Counted from the start: seq-range history pages, unread counters.
            deleted_count: 0,
            recorded_count: 0,
            last_activity_at: now,
          });
          stored = doc.toObject() as unknown as StoredConversation;
          created = true;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          // Someone created it between our read and our insert: theirs is the one.
          stored = await Conversation.findOne({ participant_key: key }).lean<StoredConversation>();
          if (!stored) throw err;
        }
      }
      const [conversation] = await presentMany([stored], actor.id);
      return { conversation, created };
    },

    /** The caller's conversations, most recent activity first, keyset-paginated. */
    async list(
      actor: Actor,
      options: { limit: number; cursor?: string },
    ): Promise<{ conversations: ConversationView[]; nextCursor: string | null }> {
      const filter: Record<string, unknown> = { participants: new Types.ObjectId(actor.id) };
      if (options.cursor) {
        const { at, id } = decodeCursor(options.cursor);
        filter.$or = [
          { last_activity_at: { $lt: at } },
          { last_activity_at: at, _id: { $lt: id } },
        ];
      }
      const rows = await Conversation.collection
        .find<StoredConversation>(filter)
        .sort({ last_activity_at: -1, _id: -1 })
        .limit(options.limit + 1)
        .toArray();
      const page = rows.slice(0, options.limit);
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > options.limit && last ? encodeCursor(last.last_activity_at, last._id) : null;
      return { conversations: await presentMany(page, actor.id), nextCursor };
    },

    async get(actor: Actor, conversationId: string): Promise<ConversationView> {
      const stored = await requireParticipation(conversationId, actor.id);
      const [conversation] = await presentMany([stored], actor.id);
      return conversation;
    },

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
  return service;
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
      { _id: stored._id, participants: { $size: stored.participants.length } },
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

export type ConversationService = ReturnType<typeof createConversationService>;
