import { body } from 'express-validator';
import { MAX_PARTICIPANTS } from '../../chat/conversation.service';
import { LISTING_ID_MAX, LIST_LIMIT_DEFAULT, PAGE_LIMIT_MAX } from '../../chat/rules';
import {
  mongoIdArrayBody,
  mongoIdBody,
  noBracketedQuery,
  objectIdParam,
  optionalStringBody,
  positiveIntQuery,
  stringQuery,
} from './common.validators';

export { LIST_LIMIT_DEFAULT };

/**
 * POST /conversations: `{recipient_id}` or `{participant_ids}`, optional listing id
 * (or its aliases). participant_ids may list the caller too (Karmyq's do): the
 * service counts members after adding the caller.
 */
export const createConversationRules = [
  mongoIdBody('recipient_id'),
  ...mongoIdArrayBody('participant_ids', MAX_PARTICIPANTS),
  body().custom((value: unknown) => {
    const b = (value ?? {}) as Record<string, unknown>;
    if (b.recipient_id == null && b.participant_ids == null) {
      throw new Error('recipient_id or participant_ids is required');
    }
    return true;
  }),
  optionalStringBody('listing_id', LISTING_ID_MAX),
  optionalStringBody('horse_id', LISTING_ID_MAX),
  optionalStringBody('request_match_id', LISTING_ID_MAX),
];

export const listConversationsRules = [
  noBracketedQuery('limit'),
  noBracketedQuery('cursor'),
  positiveIntQuery('limit', PAGE_LIMIT_MAX),
  stringQuery('cursor', 200),
];

export const conversationIdRules = [objectIdParam('id')];

/** Mark-read; a Karmyq client names itself in `user_id`, which must be the caller (controller). */
export const markReadRules = [objectIdParam('id'), mongoIdBody('user_id')];

export const participantsRules = [
  objectIdParam('id'),
  mongoIdBody('user_id'),
  ...mongoIdArrayBody('user_ids', MAX_PARTICIPANTS),
  body().custom((value: unknown) => {
    const b = (value ?? {}) as Record<string, unknown>;
    if (b.user_id == null && b.user_ids == null) throw new Error('user_id or user_ids is required');
    return true;
  }),
];

export const removeParticipantRules = [objectIdParam('id'), objectIdParam('userId')];
