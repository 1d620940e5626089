import { MESSAGE_TEXT_MAX } from '../../models';
import { AppError } from '../lib/errors';
import { parseObjectId } from './ids';

/** Input rules shared by REST validators and socket payload checks. */
export { MESSAGE_TEXT_MAX };
export const PAGE_LIMIT_DEFAULT = 30;
export const PAGE_LIMIT_MAX = 100;
export const LIST_LIMIT_DEFAULT = 20;
export const LISTING_ID_MAX = 200;
/** Client message ids: UUIDs, ULIDs, nanoids… printable, no spaces, bounded. */
export const CLIENT_MESSAGE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A lone surrogate cannot be stored (UTF-8 has no encoding for it; the database
 * would keep U+FFFD): replaced before storing, so every answer and event matches
 * what is read back later.
 */
export function storable(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** Trims and checks message text; throws 400 with the field named. */
export function checkedText(value: unknown, field = 'text'): string {
  if (typeof value !== 'string') {
    throw new AppError('VALIDATION_FAILED', `${field} must be a string`, [
      { field, message: 'must be a string' },
    ]);
  }
  const text = storable(value.trim());
  if (text.length === 0) {
    throw new AppError('VALIDATION_FAILED', `${field} is required`, [
      { field, message: 'must not be empty' },
    ]);
  }
  if (text.length > MESSAGE_TEXT_MAX) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${field} must be at most ${MESSAGE_TEXT_MAX} characters`,
      [{ field, message: `must be at most ${MESSAGE_TEXT_MAX} characters` }],
    );
  }
  return text;
}

export function checkedClientMessageId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !CLIENT_MESSAGE_ID_PATTERN.test(value)) {
    throw new AppError(
      'VALIDATION_FAILED',
      'client_message_id must be 1-100 characters of [A-Za-z0-9._:-]',
      [{ field: 'client_message_id', message: 'invalid format' }],
    );
  }
  return value;
}

/**
 * The Karmyq dialect names the acting user in the payload. It is never trusted:
 * it must match the authenticated user, or the event is refused.
 */
export function assertClaimedUser(claimed: unknown, actorId: string, field: string): void {
  if (claimed === undefined || claimed === null) return;
  // Not an id at all: an input mistake (VALIDATION_FAILED), not another user.
  if (parseObjectId(claimed, field).toHexString() !== actorId) {
    throw new AppError('FORBIDDEN', `${field} does not match the authenticated user`);
  }
}

/**
 * Karmyq's document shows how to add image and location messages (message_type,
 * media_url). This service stores text only: such a send is refused rather than
 * stored without its media, which the sender would believe delivered. Absent,
 * null or empty means text (Karmyq's own handler reads `message_type || 'text'`).
 */
export const isTextMessageType = (value: unknown): boolean =>
  value === undefined || value === null || value === '' || value === 'text';
export const isNoMedia = (value: unknown): boolean =>
  value === undefined || value === null || value === '';

/** Socket sends: the same rule as the REST validators (message.validators.ts). */
export function assertTextMessage(payload: Record<string, unknown>): void {
  if (!isTextMessageType(payload.message_type)) {
    throw new AppError(
      'VALIDATION_FAILED',
      "message_type must be 'text': only text messages are supported",
      [{ field: 'message_type', message: TEXT_ONLY.messageType }],
    );
  }
  if (!isNoMedia(payload.media_url)) {
    throw new AppError('VALIDATION_FAILED', 'media_url is not supported: only text messages are', [
      { field: 'media_url', message: TEXT_ONLY.mediaUrl },
    ]);
  }
}

/** The field messages of that rule, shared by both paths. */
export const TEXT_ONLY = {
  messageType: "must be 'text' (only text messages are supported)",
  mediaUrl: 'not supported (only text messages are)',
} as const;
