import { Types } from 'mongoose';
import { Conversation } from '../../models';
import { AppError } from '../lib/errors';
import type { RateLimits } from '../lib/rate-limits';
import { blocksAmong } from './block.service';
import type { ChatEvents } from './chat-events';
import type { ParticipationCache } from './participation-cache';
import { decodeCursor, encodeCursor } from './cursor';
import { isDuplicateKey } from './db-errors';
import { sameId } from './ids';
import { toConversationView } from './presenters';
import { storable } from './rules';
import type { Actor, ConversationView } from './types';
import { countExistingUsers, profilesFor } from './user.service';
import { unreadCounts } from './unread';
import { FRESH_COUNTER } from './unread-counters';
import {
  MAX_PARTICIPANTS,
  participantKey,
  requireParticipation,
  type StoredConversation,
} from './conversation-access';
import { createMembershipChanges } from './membership';

// Where the rest of the service has always found them.
export { MAX_PARTICIPANTS, participantKey, requireParticipation, type StoredConversation };

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
  const membership = createMembershipChanges(events, participation, (actor, id) =>
    service.get(actor, id),
  );
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

    ...membership,
  };
  return service;
}

export type ConversationService = ReturnType<typeof createConversationService>;
