import querystring from 'node:querystring';
import { AppError } from '../lib/errors';

/** No route reads more than a handful of query parameters. */
export const MAX_QUERY_PARAMETERS = 100;

/**
 * Express's `simple` query parser (node:querystring), except that a query with
 * more than MAX_QUERY_PARAMETERS pairs is refused (400): the stock parser silently
 * drops every pair after the 1,000th, so a parameter could vanish unseen (a bad
 * `page` after 1,000 padding pairs answered 200 with page 1).
 */
export function strictQueryParser(raw: string | null): querystring.ParsedUrlQuery {
  const query = raw ?? ''; // Express passes null for a URL without a query
  let pairs = query.length > 0 ? 1 : 0;
  for (let i = query.indexOf('&'); i !== -1; i = query.indexOf('&', i + 1)) pairs += 1;
  if (pairs > MAX_QUERY_PARAMETERS) {
    throw new AppError(
      'VALIDATION_FAILED',
      `Too many query parameters (at most ${MAX_QUERY_PARAMETERS})`,
    );
  }
  return querystring.parse(query, '&', '=', { maxKeys: 0 });
}
