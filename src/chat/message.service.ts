import { Message } from '../../models';
import { AppError } from '../lib/errors';
import type { RateLimits } from '../lib/rate-limits';
import { assertNotBlocked } from './blocks';
import type { ChangeClock } from './change-clock';
import type { ChatEventSink } from './chat-events';
import { currentParticipants } from './conversation-access';
import { requireParticipation } from './conversation.service';
import { isDuplicateKeyOn } from './db-errors';
import type { ParticipationCache, SendContext } from './participation-cache';
import { latestSeq, liveMessageCount, loadWindow, type HistoryWindow } from './history-window';
import { createMessageDeletion } from './message-deletion';
import { sameId } from './ids';
import {
  insertMessage,
  deletedAtOf,
  newMessageDocument,
  recordLastMessage,
  recordLastMessageLater,
  restampMessage,
  type StoredMessage,
} from './message-writes';
import { missingProfile, toMessageView, type MessageRecord } from './presenters';
import type { ReadService } from './read.service';
import { appliedAfterAll } from './read-back';
import { checkedClientMessageId, checkedText } from './rules';
import type { Actor, MessageView, UserProfileView } from './types';
import { profilesFor } from './user.service';

/** Bounded so a pathological pile-up of concurrent senders fails loudly instead of spinning. */
const MAX_SEQ_ATTEMPTS = 64;

export interface SendResult {
  /** The stored message as a record (views are built by the caller's dialect). */
  record: MessageRecord;
  sender: Actor['profile'];
  /** False when client_message_id matched an earlier send: nothing new was stored or emitted. */
  created: boolean;
}

export type { HistoryWindow };

/** A slice of history before it is shown in a dialect. */
export interface HistoryPage {
  /** Oldest first, with the read state this fetch gave them. */
  messages: MessageRecord[];
  senderOf(message: MessageRecord): UserProfileView;
  /** Live messages in the conversation, when asked for. */
  total?: number;
}

export function createMessageService(
  events: ChatEventSink,
  reads: ReadService,
  clock: ChangeClock,
  limits: RateLimits,
  participation: ParticipationCache,
) {
  /** The original message of a repeated client_message_id, if there is one. */
  async function replay(
    actor: Actor,
    conversationId: string,
    dedupeKey: string | undefined,
  ): Promise<SendResult | null> {
    if (!dedupeKey) return null;
    const original = await Message.collection.findOne<MessageRecord>({ dedupe_key: dedupeKey });
    if (!original) return null;
    if (!sameId(original.conversation_id, conversationId)) {
      throw new AppError('CONFLICT', 'client_message_id was already used for another conversation');
    }
    // Deleted messages appear nowhere, a replayed send included; and it must not be stored again.
    if (original.deleted_at) {
      throw new AppError('CONFLICT', 'client_message_id belongs to a message that was deleted');
    }
    return { record: original, sender: actor.profile, created: false };
  }

  /**
   * History, oldest first, with each message's sender. Seed page/limit: page 1
   * is the newest `limit` messages, page 2 the ones before; Karmyq offset/limit
   * likewise from the newest. Cursor windows take `before` / `after` a seq and
   * stay stable while new messages arrive. Marks read, for the caller, other
   * people's messages up to the newest one returned. `withTotal` also counts
   * the conversation's live messages (Karmyq's `total`).
   */
  async function readHistory(
    actor: Actor,
    conversationId: string,
    window: HistoryWindow,
    options: { withTotal?: boolean } = {},
  ): Promise<HistoryPage> {
    const conversation = await requireParticipation(conversationId, actor.id);
    const [messages, total] = await Promise.all([
      loadWindow(conversation, window),
      options.withTotal ? liveMessageCount(conversation) : undefined,
    ]);
    const newest = messages[messages.length - 1];
    if (newest) {
      const receipt = await reads.markReadUpTo(
        actor,
        conversation,
        newest.seq,
        newest._id.toString(),
      );
      if (receipt) {
        const readAt = new Date(receipt.read_at);
        for (const message of messages) {
          if (!message.is_read && !sameId(message.sender_id, actor.id)) {
            Object.assign(message, { is_read: true, read_at: readAt, status: 'read' });
          }
        }
      }
    }
    const profiles = await profilesFor(messages.map((m) => m.sender_id));
    const senderOf = (message: MessageRecord) =>
      profiles.get(message.sender_id.toString()) ?? missingProfile(message.sender_id.toString());
    return { messages, senderOf, total };
  }

  function announce(actor: Actor, conversation: SendContext, record: StoredMessage): void {
    events.messageCreated({
      conversationId: conversation._id.toString(),
      participantIds: conversation.participants.map(String),
      message: record,
      sender: actor.profile,
    });
  }

  /**
   * After an insert failed in a way that may have applied it (its reply lost):
   * whether the message is stored after all (read-back.ts). Found later instead,
   * it is announced and recorded then, as this send would have.
   */
  async function storedAfterAll(
    actor: Actor,
    conversation: SendContext,
    attempted: StoredMessage,
    failure: unknown,
  ): Promise<boolean> {
    const stored = await appliedAfterAll({
      failure,
      applied: async () => ((await deletedAtOf(attempted._id)) === null ? attempted : null),
      onLandedLater: async () => {
        await clock.stamp((at) => restampMessage(attempted._id, at));
        participation.noteSeq(conversation._id.toString(), attempted.seq);
        // Seconds later: notified are those taking part now, not when the send began.
        // If that read fails, the conversation's rooms (whose members are current) still
        // get it, but no personal notification goes out on a list that may be stale.
        const participants = await currentParticipants(conversation._id).catch(() => []);
        announce(actor, { ...conversation, participants }, attempted);
        await recordLastMessage(conversation, attempted).catch((err: unknown) => {
          events.reportError(err, `recording message ${attempted._id.toString()}`);
          recordLastMessageLater(conversation, attempted, events.reportError);
        });
      },
      report: events.reportError,
      context: `checking whether message ${attempted._id.toString()} was stored`,
    });
    return stored !== null;
  }

  return {
    /**
     * Stores a message and announces it. The insert is the single commit point:
     * seq is taken optimistically (last known + 1) and the unique
     * (conversation_id, seq) index rejects a collision, so seqs stay gapless and
     * become visible in order, without a transaction. A repeated
     * client_message_id (same sender, any path, any time) returns the original.
     */
    async send(
      actor: Actor,
      conversationId: string,
      input: { text: unknown; clientMessageId?: unknown },
    ): Promise<SendResult> {
      const text = checkedText(input.text);
      const clientMessageId = checkedClientMessageId(input.clientMessageId);
      const dedupeKey = clientMessageId ? `${actor.id}:${clientMessageId}` : undefined;

      const conversation = await participation.require(conversationId, actor.id);
      try {
        assertNotBlocked(conversation, actor.id);
        await limits.consume('send', actor.id);
      } catch (refusal) {
        // A retry of a message stored before the block or the limit still gets its original.
        const earlier = await replay(actor, conversationId, dedupeKey);
        if (earlier) return earlier;
        throw refusal;
      }

      let seq = conversation.last_seq + 1;
      for (let attempt = 0; attempt < MAX_SEQ_ATTEMPTS; attempt++) {
        let record: StoredMessage;
        let attempted: StoredMessage | undefined;
        try {
          record = await clock.stamp(async (at) => {
            attempted = newMessageDocument({
              conversationId: conversation._id,
              senderId: actor.id,
              text,
              seq,
              clientMessageId,
              dedupeKey,
              at,
            });
            // No lookup of client_message_id first: the unique dedupe_key makes a
            // repeat fail here, and the original is fetched only then.
            await insertMessage(attempted);
            return attempted;
          });
        } catch (err) {
          if (dedupeKey && isDuplicateKeyOn(err, 'dedupe_key')) {
            const original = await replay(actor, conversationId, dedupeKey);
            if (original) return original;
          }
          if (isDuplicateKeyOn(err, 'seq')) {
            // Another send took this position: continue after the newest stored one.
            seq = Math.max(seq, await latestSeq(conversation._id)) + 1;
            continue;
          }
          if (!attempted || !(await storedAfterAll(actor, conversation, attempted, err))) throw err;
          record = attempted;
        }
        // The insert is the commit point: from here the send succeeds, whatever
        // else fails (a failure answer would make the client send it again).
        participation.noteSeq(conversationId, seq);
        // Announced first, then recorded as last_message and in the unread counters
        // (one round trip less before delivery); the sender is answered once that is
        // done, so its next list read shows the message. Issuing the update before
        // the broadcast kept ~0.06 ms of driver work (p50) on every message's way to
        // its recipient (README, benchmark 1).
        announce(actor, conversation, record);
        await recordLastMessage(conversation, record).catch((err: unknown) => {
          events.reportError(err, `recording message ${record._id.toString()} on its conversation`);
          recordLastMessageLater(conversation, record, events.reportError);
        });
        return { record, sender: actor.profile, created: true };
      }
      throw new AppError(
        'DATABASE_UNAVAILABLE',
        'Too many concurrent sends in this conversation; retry',
      );
    },

    readHistory,

    /** History in the Horse Trust shape (sender populated). */
    async history(
      actor: Actor,
      conversationId: string,
      window: HistoryWindow,
    ): Promise<MessageView[]> {
      const page = await readHistory(actor, conversationId, window);
      return page.messages.map((m) => toMessageView(m, page.senderOf(m)));
    },

    /** Soft delete by the sender (message-deletion.ts). */
    remove: createMessageDeletion(events, clock),
  };
}

export type MessageService = ReturnType<typeof createMessageService>;
