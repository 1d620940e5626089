import type { NextFunction, Request, Response } from 'express';
import querystring from 'node:querystring';
import { AppError } from '../lib/errors';

/** No route reads more than a handful of query parameters. */
export const MAX_QUERY_PARAMETERS = 100;

/** What `req.query` is for a query with too many parameters (one object, so it can be recognized). */
const TOO_MANY_PARAMETERS: querystring.ParsedUrlQuery = Object.freeze(Object.create(null));

/**
 * Express's `simple` query parser (node:querystring), except for a query with more
 * than MAX_QUERY_PARAMETERS pairs: the stock parser silently drops every pair after
 * the 1,000th, so a parameter could vanish unseen (a bad `page` after 1,000 padding
 * pairs answered 200 with page 1). It does not throw: Express parses on every read
 * of `req.query`, the request logger's included, and a throw there would lose the
 * request's log line. refuseOversizedQuery answers 400 instead.
 */
export function strictQueryParser(raw: string | null): querystring.ParsedUrlQuery {
  const query = raw ?? ''; // Express passes null for a URL without a query
  let pairs = query.length > 0 ? 1 : 0;
  for (let i = query.indexOf('&'); i !== -1; i = query.indexOf('&', i + 1)) pairs += 1;
  if (pairs > MAX_QUERY_PARAMETERS) return TOO_MANY_PARAMETERS;
  return querystring.parse(query, '&', '=', { maxKeys: 0 });
}

/** 400 for a query strictQueryParser would not read. */
export function refuseOversizedQuery(req: Request, _res: Response, next: NextFunction): void {
  if (req.query === TOO_MANY_PARAMETERS) {
    next(
      new AppError(
        'VALIDATION_FAILED',
        `Too many query parameters (at most ${MAX_QUERY_PARAMETERS})`,
      ),
    );
    return;
  }
  next();
}
