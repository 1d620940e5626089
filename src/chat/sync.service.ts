import { Types } from 'mongoose';
import { Conversation, Message } from '../../models';
import type { ChangeClock } from './change-clock';
import type { DeliveryService } from './delivery.service';
import { missingProfile, toMessageView, type MessageRecord } from './presenters';
import {
  afterPosition,
  decodeSyncCursor,
  encodeSyncCursor,
  type SyncPosition,
} from './sync-cursor';
import type { Actor, MessageView } from './types';
import { profilesFor } from './user.service';

export const SYNC_LIMIT_DEFAULT = 100;
export const SYNC_LIMIT_MAX = 500;

export interface SyncResult {
  messages: MessageView[];
  reads: Array<{
    conversation_id: string;
    reader_id: string;
    read_up_to_seq: number;
    read_at: string;
  }>;
  deletions: Array<{ _id: string; conversation_id: string; seq: number; deleted_at: string }>;
  cursor: string;
  has_more: boolean;
}

interface SyncConversation {
  _id: Types.ObjectId;
  participants: Types.ObjectId[];
  members: Array<{ user_id: Types.ObjectId; read_seq: number; last_read_at: Date | null }>;
}

type ChangedMessage = MessageRecord & { changed_at: Date };

export function createSyncService(clock: ChangeClock, deliveries: DeliveryService) {
  return {
    /**
     * What changed, across all the caller's conversations, after `since`: new or
     * updated messages, read horizons that moved, deletions. Ordered by
     * (changed_at, _id); at most `limit` message changes per call, `has_more`
     * says to call again with the returned cursor. Without `since`: only the
     * current cursor. Messages handed over here count as delivered.
     */
    async sync(actor: Actor, options: { since?: string; limit: number }): Promise<SyncResult> {
      const horizon = clock.horizon();
      const empty = (position: SyncPosition): SyncResult => ({
        messages: [],
        reads: [],
        deletions: [],
        cursor: encodeSyncCursor(position),
        has_more: false,
      });
      if (options.since === undefined) return empty({ at: horizon, id: null });
      const from = decodeSyncCursor(options.since);
      // A cursor from a node whose clock runs ahead must never move a client backwards.
      if (from.at >= horizon) return empty(from);

      const conversations = await Conversation.find(
        { participants: new Types.ObjectId(actor.id) },
        { _id: 1, participants: 1, members: 1 },
      ).lean<SyncConversation[]>();
      if (conversations.length === 0) return empty({ at: horizon, id: null });

      const rows = await Message.find({
        conversation_id: { $in: conversations.map((c) => c._id) },
        // $and: both bounds are on changed_at, and a spread would let one replace the other.
        $and: [{ changed_at: { $lte: horizon } }, afterPosition(from)],
      })
        .sort({ changed_at: 1, _id: 1 })
        .limit(options.limit + 1)
        .lean<ChangedMessage[]>();
      const hasMore = rows.length > options.limit;
      const page = rows.slice(0, options.limit);
      const last = page[page.length - 1];
      const to: SyncPosition =
        hasMore && last ? { at: last.changed_at, id: last._id } : { at: horizon, id: null };

      const live = page.filter((m) => !m.deleted_at);
      const participantsById = new Map(
        conversations.map((c) => [c._id.toString(), c.participants]),
      );
      const delivered = new Set(
        await deliveries.markDelivered(
          actor.id,
          live
            .filter((m) => m.status === 'sent' && m.sender_id.toString() !== actor.id)
            .map((m) => m._id),
          (id) => participantsById.get(id) ?? [],
          // This response already carries them as delivered: moving them in the change
          // order would hand the same messages back to this caller on its next call.
          { restamp: false },
        ),
      );
      const profiles = await profilesFor(live.map((m) => m.sender_id));

      return {
        messages: live.map((m) => {
          const view = toMessageView(
            m,
            profiles.get(m.sender_id.toString()) ?? missingProfile(m.sender_id.toString()),
          );
          if (delivered.has(view._id)) view.status = 'delivered';
          return view;
        }),
        reads: conversations.flatMap((c) =>
          c.members
            .filter((m) => m.last_read_at && m.last_read_at > from.at && m.last_read_at <= to.at)
            .map((m) => ({
              conversation_id: c._id.toString(),
              reader_id: m.user_id.toString(),
              read_up_to_seq: m.read_seq,
              read_at: (m.last_read_at as Date).toISOString(),
            })),
        ),
        deletions: page
          .filter((m) => m.deleted_at)
          .map((m) => ({
            _id: m._id.toString(),
            conversation_id: m.conversation_id.toString(),
            seq: m.seq,
            deleted_at: (m.deleted_at as Date).toISOString(),
          })),
        cursor: encodeSyncCursor(to),
        has_more: hasMore,
      };
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;
