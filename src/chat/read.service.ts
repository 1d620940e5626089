import { Types } from 'mongoose';
import { Conversation, Message } from '../../models';
import type { ChangeClock } from './change-clock';
import type { ChatEventSink } from './chat-events';
import { appliedAfterAll } from './read-back';
import { retryLater } from './retry-later';
import { currentParticipants } from './conversation-access';
import { requireParticipation } from './conversation.service';
import type { Actor } from './types';
import { unreadCounts, type ReadStateRecord } from './unread';
import { resetReaderCounter } from './unread-counters';
import { sameId } from './ids';

export interface ReadReceipt {
  conversation_id: string;
  reader_id: string;
  read_up_to_seq: number;
  read_up_to_message_id: string | null;
  read_at: string;
  marked_count: number;
}

interface ReadTarget {
  _id: Types.ObjectId;
  participants: Types.ObjectId[];
  deleted_count?: number | null;
  /** As read with the conversation: the reader's horizon before this read. */
  members?: Array<{ user_id: Types.ObjectId; read_seq: number }>;
}

/** Whether other people have live messages above `after`, up to `upTo`. */
async function othersWroteBetween(
  conversationId: Types.ObjectId,
  reader: Types.ObjectId,
  after: number,
  upTo: number,
): Promise<boolean> {
  const found = await Message.exists({
    conversation_id: conversationId,
    seq: { $gt: after, $lte: upTo },
    sender_id: { $ne: reader },
    deleted_at: null,
  });
  return found !== null;
}

/** The reader's horizon as stored (null when not a member). */
async function horizonOf(
  conversationId: Types.ObjectId,
  reader: Types.ObjectId,
): Promise<{ read_seq: number; last_read_at: Date | null } | null> {
  const found = await Conversation.collection.findOne<{
    members?: { user_id: Types.ObjectId; read_seq: number; last_read_at: Date | null }[];
  }>({ _id: conversationId }, { projection: { members: 1 } });
  return found?.members?.find((m) => sameId(m.user_id, reader)) ?? null;
}

export function createReadService(events: ChatEventSink, clock: ChangeClock) {
  /**
   * Moves the caller's read horizon up to `upToSeq` and marks other people's
   * messages at or below it read. Idempotent and monotonic: a horizon never moves
   * back, so fetching an older page never marks newer messages, and a repeat does
   * no writes. Returns null when the horizon did not move.
   */
  async function markReadUpTo(
    actor: Actor,
    conversation: ReadTarget,
    upToSeq: number,
    upToMessageId: string | null,
  ): Promise<ReadReceipt | null> {
    if (upToSeq <= 0) return null;
    const me = new Types.ObjectId(actor.id);
    const announce = (readAt: Date, participants = conversation.participants) =>
      events.messagesRead({
        conversationId: conversation._id.toString(),
        participantIds: participants.map(String),
        readerId: actor.id,
        upToSeq,
        upToMessageId,
        readAt,
      });
    /**
     * News when the horizon passed other people's messages. Marking none does not
     * say it did not: in a group, or a conversation that was one, another member may
     * have marked them already (one is_read per message). A horizon over only the
     * reader's own messages is not news. Told before the answer, so a client that
     * waits for each answer gets its receipts in order.
     */
    const announceIfNews = async (
      readAt: Date,
      markedCount: number | null,
      participants?: Types.ObjectId[],
    ) => {
      const before = conversation.members?.find((m) => sameId(m.user_id, me))?.read_seq ?? 0;
      const news =
        markedCount !== 0 ||
        // If it cannot be told, say it: a receipt too many is harmless.
        (await othersWroteBetween(conversation._id, me, before, upToSeq).catch(() => true));
      if (news) announce(readAt, participants);
    };
    const outcome = await clock.stamp(async (readAt) => {
      // The commit point: the horizon. What follows is done for it (or retried).
      if (!(await advancedHorizon(conversation, me, upToSeq, readAt, announceIfNews))) return null;
      try {
        return { readAt, markedCount: await applyRead(conversation, me, upToSeq, readAt) };
      } catch (err) {
        // The read is committed: it answers and is announced; the marking is retried
        // (without it a repeat read finds the horizon already there and does nothing).
        events.reportError(err, `marking messages read in ${conversation._id.toString()}`);
        void retryLater(
          () => clock.stamp((at) => applyRead(conversation, me, upToSeq, at)),
          events.reportError,
          `marking messages read in ${conversation._id.toString()}`,
        );
        return { readAt, markedCount: null };
      }
    });
    if (!outcome) return null;
    const receipt: ReadReceipt = {
      conversation_id: conversation._id.toString(),
      reader_id: actor.id,
      read_up_to_seq: upToSeq,
      read_up_to_message_id: upToMessageId,
      read_at: outcome.readAt.toISOString(),
      marked_count: outcome.markedCount ?? 0,
    };
    await announceIfNews(outcome.readAt, outcome.markedCount);
    return receipt;
  }

  /**
   * Moves the reader's horizon up to `upToSeq`; false when it was there already.
   * If the reply is lost, the horizon is read back (read-back.ts): a retry would
   * find it moved and do nothing, leaving the messages unmarked and unannounced.
   */
  async function advancedHorizon(
    conversation: ReadTarget,
    me: Types.ObjectId,
    upToSeq: number,
    readAt: Date,
    announceIfNews: (
      readAt: Date,
      markedCount: number,
      participants?: Types.ObjectId[],
    ) => Promise<void>,
  ): Promise<boolean> {
    try {
      const advanced = await Conversation.updateOne(
        {
          _id: conversation._id,
          members: { $elemMatch: { user_id: me, read_seq: { $lt: upToSeq } } },
        },
        {
          $set: {
            'members.$[me].read_seq': upToSeq,
            'members.$[me].last_read_at': readAt,
            // The count changes with the horizon: untrusted until resetReaderCounter below.
            'members.$[me].unread_valid': false,
          },
        },
        // The filter's $elemMatch already requires read_seq < upToSeq. Repeating it here made
        // wire-compatible servers that re-check filters per path skip last_read_at.
        { arrayFilters: [{ 'me.user_id': me }] },
      );
      return advanced.modifiedCount > 0;
    } catch (err) {
      const moved = await appliedAfterAll({
        failure: err,
        // This attempt's horizon, by its stamp (a retry's would announce itself).
        applied: async () => {
          const horizon = await horizonOf(conversation._id, me);
          const ours =
            horizon?.read_seq === upToSeq && horizon.last_read_at?.getTime() === readAt.getTime();
          return ours ? true : null;
        },
        onLandedLater: async () => {
          const marked = await clock.stamp((at) => applyRead(conversation, me, upToSeq, at));
          // Seconds later: told are those taking part now (or, failing that read, then).
          const participants = await currentParticipants(conversation._id).catch(
            () => conversation.participants,
          );
          await announceIfNews(readAt, marked, participants);
        },
        report: events.reportError,
        context: `checking whether a read of ${conversation._id.toString()} was recorded`,
      });
      if (!moved) throw err;
      return true;
    }
  }

  /** Marks other people's messages up to the horizon read (idempotent); how many changed. */
  async function applyRead(
    conversation: ReadTarget,
    me: Types.ObjectId,
    upToSeq: number,
    readAt: Date,
  ): Promise<number> {
    const marked = await Message.updateMany(
      {
        conversation_id: conversation._id,
        seq: { $lte: upToSeq },
        sender_id: { $ne: me },
        is_read: false,
        deleted_at: null,
      },
      { $set: { is_read: true, read_at: readAt, status: 'read', changed_at: readAt } },
    );
    await Conversation.updateOne(
      {
        _id: conversation._id,
        'last_message.seq': { $lte: upToSeq },
        'last_message.sender_id': { $ne: me },
      },
      { $set: { 'last_message.is_read': true } },
    );
    await resetReaderCounter(conversation, me, upToSeq);
    return marked.modifiedCount;
  }

  return {
    markReadUpTo,

    /** Karmyq "mark-read": everything currently in the conversation becomes read for the caller. */
    async markAllRead(actor: Actor, conversationId: string): Promise<ReadReceipt> {
      const conversation = await requireParticipation(conversationId, actor.id);
      const latest = await Message.findOne(
        { conversation_id: conversation._id, deleted_at: null },
        { _id: 1, seq: 1 },
      )
        .sort({ seq: -1 })
        .lean<{ _id: Types.ObjectId; seq: number }>();
      // Deleted messages above the newest live one need no reading; the horizon still covers them.
      const upToSeq = Math.max(latest?.seq ?? 0, conversation.last_seq);
      const upToMessageId = latest?._id.toString() ?? null;
      const receipt = await markReadUpTo(actor, conversation, upToSeq, upToMessageId);
      return (
        receipt ?? {
          conversation_id: conversationId,
          reader_id: actor.id,
          read_up_to_seq: upToSeq,
          read_up_to_message_id: upToMessageId,
          read_at: new Date().toISOString(),
          marked_count: 0,
        }
      );
    },

    /** Total unread messages across all the caller's conversations. */
    async totalUnread(actor: Actor): Promise<number> {
      const conversations = await Conversation.find(
        { participants: new Types.ObjectId(actor.id) },
        // recorded_count too: without it the cached counters are never trusted.
        { _id: 1, last_seq: 1, members: 1, deleted_count: 1, recorded_count: 1 },
      ).lean<ReadStateRecord[]>();
      const counts = await unreadCounts(actor.id, conversations);
      let total = 0;
      for (const n of counts.values()) total += n;
      return total;
    },
  };
}

export type ReadService = ReturnType<typeof createReadService>;
