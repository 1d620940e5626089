import type { Types } from 'mongoose';
import { Conversation, Message } from '../../models';
import { AppError, isAppError } from '../lib/errors';
import type { ChangeClock } from './change-clock';
import type { ChatEventSink } from './chat-events';
import { requireParticipation } from './conversation.service';
import { sameId } from './ids';
import { deletedAtOf, repairLastMessage, restampMessage } from './message-writes';
import type { MessageRecord } from './presenters';
import { appliedAfterAll } from './read-back';
import { writeOrRetryLater } from './retry-later';
import type { Actor } from './types';

export interface DeletedMessage {
  _id: string;
  conversation_id: string;
  seq: number;
  deleted_at: string;
}

/**
 * Soft delete by the sender. The update of deleted_at is the commit point:
 * last_message is repaired and the deletion announced after it, whatever fails;
 * unread counts follow by construction.
 */
export function createMessageDeletion(events: ChatEventSink, clock: ChangeClock) {
  /** After a delete committed: last_message repaired (or retried), and the deletion announced. */
  async function completeDeletion(
    conversation: { _id: Types.ObjectId; participants: Types.ObjectId[] },
    message: MessageRecord,
    deletedAt: Date,
  ): Promise<void> {
    await writeOrRetryLater(
      () => repairLastMessage(conversation._id, message._id),
      events.reportError,
      `replacing deleted message ${message._id.toString()} as last_message`,
    );
    events.messageDeleted({
      conversationId: conversation._id.toString(),
      participantIds: conversation.participants.map(String),
      messageId: message._id.toString(),
      seq: message.seq,
      deletedAt,
    });
  }

  return async function remove(
    actor: Actor,
    conversationId: string,
    messageId: string,
  ): Promise<DeletedMessage> {
    const conversation = await requireParticipation(conversationId, actor.id);
    const message = await Message.findOne({
      _id: messageId,
      conversation_id: conversation._id,
      deleted_at: null,
    }).lean<MessageRecord>();
    if (!message) throw new AppError('MESSAGE_NOT_FOUND');
    if (!sameId(message.sender_id, actor.id))
      throw new AppError('FORBIDDEN', 'Only the sender can delete a message');
    // Counted (and unread counters cleared) before the delete, so neither is ever
    // wrong: a crash in between only costs seq-range history pages and cached counts.
    await Conversation.collection.updateOne(
      { _id: conversation._id },
      { $inc: { deleted_count: 1 }, $set: { 'members.$[].unread_valid': false } },
    );
    // No cache invalidation: a send's counter update is unconditional (it adds to
    // counters this update has just marked untrusted), so a cached deleted_count
    // that is one behind changes nothing.
    let deletedAt: Date;
    let attemptedAt: Date | undefined;
    try {
      const outcome = await clock.stamp(async (at) => {
        attemptedAt = at;
        return {
          result: await Message.updateOne(
            { _id: message._id, deleted_at: null },
            { $set: { deleted_at: at, changed_at: at } },
          ),
          at,
        };
      });
      if (outcome.result.modifiedCount === 0) throw new AppError('MESSAGE_NOT_FOUND');
      deletedAt = outcome.at;
    } catch (err) {
      if (isAppError(err)) throw err;
      // The reply was lost: a retry would find the message gone (404) and nobody
      // would hear of the deletion, so it is read back (read-back.ts).
      const found = await appliedAfterAll({
        failure: err,
        // This attempt's deletion, by its stamp (a retry's would announce itself).
        applied: async () => {
          const at = await deletedAtOf(message._id);
          return at && at.getTime() === attemptedAt?.getTime() ? at : null;
        },
        onLandedLater: async (at) => {
          await clock.stamp((now) => restampMessage(message._id, now));
          await completeDeletion(conversation, message, at);
        },
        report: events.reportError,
        context: `checking whether message ${message._id.toString()} was deleted`,
      });
      if (!found) throw err;
      deletedAt = found;
    }
    // The delete is committed: from here it succeeds (and is announced) whatever fails.
    await completeDeletion(conversation, message, deletedAt);
    return {
      _id: message._id.toString(),
      conversation_id: conversationId,
      seq: message.seq,
      deleted_at: deletedAt.toISOString(),
    };
  };
}
