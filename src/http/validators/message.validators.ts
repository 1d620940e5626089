import { body, query } from 'express-validator';
import {
  CLIENT_MESSAGE_ID_PATTERN,
  MESSAGE_TEXT_MAX,
  PAGE_LIMIT_MAX,
  TEXT_ONLY,
  isNoMedia,
  isTextMessageType,
} from '../../chat/rules';
import { noBracketedQuery, objectIdParam, positiveIntQuery } from './common.validators';

/**
 * GET /conversations/:id/messages — the seed's `page` & `limit` (limit clamped to
 * 100, not refused), or a seq cursor: `before` (≥1) or `after` (≥0), not both.
 */
export const historyRules = [
  objectIdParam('id'),
  ...['page', 'limit', 'before', 'after'].map(noBracketedQuery),
  positiveIntQuery('page'),
  positiveIntQuery('limit', PAGE_LIMIT_MAX),
  // Before the integer chains, so that the last chain to touch `after` is the one converting it.
  query('after')
    .optional()
    .custom((_value, { req }) => req.query?.before === undefined)
    .withMessage('cannot be combined with before'),
  positiveIntQuery('before'),
  positiveIntQuery('after', undefined, 0),
];

export const sendMessageRules = [
  objectIdParam('id'),
  body('text')
    .exists({ values: 'null' })
    .withMessage('is required')
    .bail()
    .custom((v: unknown) => typeof v === 'string')
    .withMessage('must be a string')
    .bail()
    .trim()
    .isLength({ min: 1, max: MESSAGE_TEXT_MAX })
    .withMessage(`must be 1-${MESSAGE_TEXT_MAX} characters`),
  body('client_message_id')
    .optional({ values: 'null' })
    .custom((v: unknown) => typeof v === 'string' && CLIENT_MESSAGE_ID_PATTERN.test(v))
    .withMessage('must be 1-100 characters of [A-Za-z0-9._:-]'),
  body('message_type').custom(isTextMessageType).withMessage(TEXT_ONLY.messageType),
  body('media_url').custom(isNoMedia).withMessage(TEXT_ONLY.mediaUrl),
];

export const deleteMessageRules = [objectIdParam('id'), objectIdParam('messageId')];
