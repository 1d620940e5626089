import { isObjectIdString, parseObjectId } from '../chat/ids';
import { assertClaimedUser, assertTextMessage, checkedText } from '../chat/rules';
import { AppError } from '../lib/errors';
import type { Dialect } from './rooms';

/**
 * Parsers for client payloads of both dialects. They run before any database
 * work and throw AppError (400) on anything malformed.
 */
export interface ConversationRef {
  conversationId: string;
  dialect: Dialect;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** The id in lower case, the form room names and comparisons use. */
function conversationIdFrom(value: unknown): string {
  return parseObjectId(value, 'conversation_id').toHexString();
}

/** `"<conversationId>"` (Horse Trust) or `{conversation_id, user_id}` (Karmyq). */
export function parseConversationRef(payload: unknown, actorId: string): ConversationRef {
  if (typeof payload === 'string')
    return { conversationId: conversationIdFrom(payload), dialect: 'horse_trust' };
  if (isPlainObject(payload)) {
    assertClaimedUser(payload.user_id, actorId, 'user_id');
    return { conversationId: conversationIdFrom(payload.conversation_id), dialect: 'karmyq' };
  }
  throw new AppError('VALIDATION_FAILED', 'Expected a conversation id or {conversation_id}');
}

export interface SendPayload {
  conversationId: string;
  text: unknown;
  clientMessageId: unknown;
  dialect: Dialect;
}

/** `{conversation_id, text}` (Horse Trust) or `{conversation_id, sender_id, content}` (Karmyq). */
export function parseSendPayload(payload: unknown, actorId: string): SendPayload {
  if (!isPlainObject(payload))
    throw new AppError('VALIDATION_FAILED', 'Expected {conversation_id, text}');
  assertClaimedUser(payload.sender_id, actorId, 'sender_id');
  assertTextMessage(payload);
  const karmyq = payload.text === undefined && payload.content !== undefined;
  return {
    conversationId: conversationIdFrom(payload.conversation_id),
    // Checked here too so that a Karmyq client's error names the field it sent.
    text: karmyq ? checkedText(payload.content, 'content') : payload.text,
    clientMessageId: payload.client_message_id,
    dialect: karmyq ? 'karmyq' : 'horse_trust',
  };
}

export interface ReceiptPayload {
  conversationId: string;
  messageIds?: string[];
  upToSeq?: number;
}

/** message_received: `{conversation_id, message_id}`, `{conversation_id, message_ids: [...]}` or `{conversation_id, up_to_seq}`. */
export function parseReceiptPayload(payload: unknown): ReceiptPayload {
  if (!isPlainObject(payload))
    throw new AppError(
      'VALIDATION_FAILED',
      'Expected {conversation_id, message_id | message_ids | up_to_seq}',
    );
  const conversationId = conversationIdFrom(payload.conversation_id);
  // null means absent, as everywhere else.
  const ids =
    payload.message_ids ?? (payload.message_id == null ? undefined : [payload.message_id]);
  if (ids !== undefined) {
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > 500 ||
      !ids.every(isObjectIdString)
    ) {
      throw new AppError('VALIDATION_FAILED', 'message_ids must be 1-500 valid ids');
    }
    return { conversationId, messageIds: ids.map((id) => id.toLowerCase()) };
  }
  const upToSeq = payload.up_to_seq;
  if (typeof upToSeq !== 'number' || !Number.isInteger(upToSeq) || upToSeq < 1) {
    throw new AppError(
      'VALIDATION_FAILED',
      'Give message_id, message_ids or up_to_seq (a positive integer)',
    );
  }
  return { conversationId, upToSeq };
}
