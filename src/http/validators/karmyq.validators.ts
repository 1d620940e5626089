import { PAGE_LIMIT_MAX } from '../../chat/rules';
import {
  noBracketedQuery,
  objectIdParam,
  positiveIntQuery,
  stringQuery,
} from './common.validators';

/** Karmyq's page size for GET /messages/:conversationId (its document's default). */
export const KARMYQ_PAGE_LIMIT_DEFAULT = 50;
/** "Get all conversations": as many as one page holds (the cursor reaches the rest). */
export const KARMYQ_LIST_LIMIT_DEFAULT = PAGE_LIMIT_MAX;

/** GET /messages/conversations/:userId — the user must be the caller (controller). */
export const karmyqListRules = [
  objectIdParam('userId'),
  noBracketedQuery('limit'),
  noBracketedQuery('cursor'),
  positiveIntQuery('limit', PAGE_LIMIT_MAX),
  stringQuery('cursor', 200),
];

/** GET /messages/:id?limit=50&offset=0 — offset counts from the newest message. */
export const karmyqHistoryRules = [
  objectIdParam('id'),
  noBracketedQuery('limit'),
  noBracketedQuery('offset'),
  positiveIntQuery('limit', PAGE_LIMIT_MAX),
  positiveIntQuery('offset', undefined, 0),
];
