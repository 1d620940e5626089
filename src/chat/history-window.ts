import type { Types } from 'mongoose';
import { Message } from '../../models';
import type { MessageRecord } from './presenters';

/**
 * Which slice of history: the seed's page/limit, Karmyq's offset/limit (offset
 * counted from the newest message), or a seq cursor (`before` / `after`).
 */
export type HistoryWindow =
  | { page: number; limit: number }
  | { offset: number; limit: number }
  | { before: number; limit: number }
  | { after: number; limit: number };

/** What choosing a window needs from the conversation. */
export interface WindowTarget {
  _id: Types.ObjectId;
  /** Seq of the last recorded message: a hint that sends raise just after their insert. */
  last_seq: number;
  /** Messages ever soft-deleted; absent on conversations stored before it was counted. */
  deleted_count?: number | null;
}

const SEQ_ONLY = { projection: { _id: 0, seq: 1 } };

/**
 * Live messages with from <= seq <= to, newest first: one range of the
 * (conversation_id, seq) index. A real MongoDB turns the filter into index
 * bounds whatever its key order. A store that scans instead (the emulator has no
 * range index) tests the keys in the order given and stops at the first that
 * fails, so seq goes first, led by the bound that rejects more of the
 * conversation: $gte near the newest end, $lte deep down (measured: npm run
 * bench, history).
 */
function seqRange(
  conversation: WindowTarget,
  from: number,
  to: number,
  limit: number,
): Promise<MessageRecord[]> {
  const belowFrom = from - 1;
  const aboveTo = conversation.last_seq - to;
  const seq = belowFrom >= aboveTo ? { $gte: from, $lte: to } : { $lte: to, $gte: from };
  return Message.collection
    .find<MessageRecord>({ seq, conversation_id: conversation._id, deleted_at: null })
    .sort({ seq: -1 })
    .limit(limit)
    .toArray();
}

/** The newest seq in the conversation, deleted or not (0 when empty). */
export async function latestSeq(conversationId: Types.ObjectId): Promise<number> {
  const latest = await Message.collection.findOne<{ seq: number }>(
    { conversation_id: conversationId },
    { ...SEQ_ONLY, sort: { seq: -1 } },
  );
  return latest?.seq ?? 0;
}

/**
 * The newest message's seq, read from the (conversation_id, seq) index. The
 * last_seq hint is it, unless a send sits between its insert and its
 * last_message update: two point lookups (the hint exists, the next does not)
 * confirm it, and anything else asks the index for its maximum.
 */
async function newestSeq(conversation: WindowTarget): Promise<number> {
  const hint = conversation.last_seq;
  const at = (seq: number) =>
    Message.collection.findOne({ conversation_id: conversation._id, seq }, SEQ_ONLY);
  const [atHint, next] = await Promise.all([hint > 0 ? at(hint) : true, at(hint + 1)]);
  return atHint && !next ? hint : latestSeq(conversation._id);
}

/**
 * The `limit` live messages after skipping the newest `offset` (seed page p is
 * offset (p - 1) * limit), newest first. Without deletions seqs 1..top are all
 * live, so this is exactly the seq range [top - offset - limit + 1, top - offset]:
 * its cost does not grow with its depth. Otherwise (or if the range comes back
 * short, e.g. a deletion nobody counted) it falls back to skipping live messages.
 */
async function fromNewest(
  conversation: WindowTarget,
  window: { offset: number; limit: number },
): Promise<MessageRecord[]> {
  const { limit } = window;
  if (conversation.deleted_count === 0) {
    const to = (await newestSeq(conversation)) - window.offset;
    if (to < 1) return [];
    const from = Math.max(1, to - limit + 1);
    const rows = await seqRange(conversation, from, to, limit);
    if (rows.length === to - from + 1) return rows;
  }
  return Message.collection
    .find<MessageRecord>({ conversation_id: conversation._id, deleted_at: null })
    .sort({ seq: -1 })
    .skip(window.offset)
    .limit(limit)
    .toArray();
}

/**
 * The `limit` live messages just below `before`. First the bounded range
 * [before - limit, before): if it holds `limit` live messages (or reaches seq 1)
 * it is the answer whatever was deleted elsewhere; else (deletions inside it, or
 * `before` beyond the newest) an open range.
 */
async function before(
  conversation: WindowTarget,
  window: { before: number; limit: number },
): Promise<MessageRecord[]> {
  const from = Math.max(1, window.before - window.limit);
  const rows = await seqRange(conversation, from, window.before - 1, window.limit);
  if (rows.length === window.limit || from === 1) return rows;
  return Message.collection
    .find<MessageRecord>({
      conversation_id: conversation._id,
      deleted_at: null,
      seq: { $lt: window.before },
    })
    .sort({ seq: -1 })
    .limit(window.limit)
    .toArray();
}

/**
 * The window with numbers that are numbers: the driver compares types, where
 * Mongoose used to cast, and express-validator can hand over a query value
 * still as a string (`after`, whose second validation chain does not toInt()).
 */
type NumericWindow = Exclude<HistoryWindow, { page: number }>;

/** …and the seed's page as the offset it stands for. */
function numeric(window: HistoryWindow): NumericWindow {
  const limit = Number(window.limit);
  if ('after' in window) return { after: Number(window.after), limit };
  if ('before' in window) return { before: Number(window.before), limit };
  // max: a "-0" from the query is a valid 0, and no skip should see it.
  if ('offset' in window) return { offset: Math.max(0, Number(window.offset)), limit };
  return { offset: (Number(window.page) - 1) * limit, limit };
}

/** Live messages of a window, oldest first. */
export async function loadWindow(
  conversation: WindowTarget,
  requested: HistoryWindow,
): Promise<MessageRecord[]> {
  const window = numeric(requested);
  if ('after' in window) {
    return Message.collection
      .find<MessageRecord>({
        conversation_id: conversation._id,
        deleted_at: null,
        seq: { $gt: window.after },
      })
      .sort({ seq: 1 })
      .limit(window.limit)
      .toArray();
  }
  const newestFirst =
    'before' in window
      ? await before(conversation, window)
      : await fromNewest(conversation, window);
  return newestFirst.reverse();
}

/**
 * How many live messages the conversation holds. Without deletions that is the
 * newest seq (seqs are gapless); otherwise they are counted (the conversation's
 * messages, through the (conversation_id, seq) index).
 */
export async function liveMessageCount(conversation: WindowTarget): Promise<number> {
  if (conversation.deleted_count === 0) return newestSeq(conversation);
  return Message.collection.countDocuments({ conversation_id: conversation._id, deleted_at: null });
}
