import { SYNC_LIMIT_MAX } from '../../chat/sync.service';
import { noBracketedQuery, positiveIntQuery, stringQuery } from './common.validators';

/** GET /sync?since=<cursor>&limit — a malformed cursor is refused by the service (400). */
export const syncRules = [
  noBracketedQuery('since'),
  noBracketedQuery('limit'),
  stringQuery('since', 200),
  positiveIntQuery('limit', SYNC_LIMIT_MAX),
];
