import { parse as parseQuery } from 'node:querystring';
import { CLIENT_MESSAGE_ID_PATTERN } from '../../src/chat/rules';
import { HEX24 } from './arbitraries';

/**
 * Every /api/chat route, with what it accepts as documented: the oracle of the REST
 * fuzzer. It only says when a 2xx is *allowed*; anything else must be a 4xx.
 */
export type Method = 'get' | 'post' | 'delete';
type Body = Record<string, unknown>;

export interface Route {
  method: Method;
  path: string;
  /**
   * Routes that take a body: whether a 2xx is possible for this parsed body (the
   * route's rules as documented). `true` for routes that ignore their body.
   */
  accepts?: (body: unknown) => boolean;
  /** Query parameters the route reads: integer minimum, or 'string' (cursor). */
  query?: Record<string, number | 'string'>;
}

const isObject = (v: unknown): v is Body =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown) => typeof v === 'string' && HEX24.test(v);
const isIdList = (v: unknown, max: number) =>
  Array.isArray(v) && v.length >= 1 && v.length <= max && v.every(isId);
const optionalText = (v: unknown) =>
  v === undefined || v === null || (typeof v === 'string' && v.trim().length >= 1);

/** Every /api/chat route. `:id` is the caller's conversation; other params name harmless targets. */
export const ROUTES: Route[] = [
  {
    method: 'post',
    path: '/conversations',
    accepts: (b) =>
      isObject(b) &&
      (b.recipient_id === undefined || isId(b.recipient_id)) &&
      (b.participant_ids === undefined || isIdList(b.participant_ids, 49)) &&
      (b.recipient_id !== undefined || b.participant_ids !== undefined) &&
      ['listing_id', 'horse_id', 'request_match_id'].every((k) => optionalText(b[k])),
  },
  { method: 'get', path: '/conversations', query: { limit: 1, cursor: 'string' } },
  { method: 'get', path: '/conversations/:id' },
  {
    method: 'get',
    path: '/conversations/:id/messages',
    query: { page: 1, limit: 1, before: 1, after: 0 },
  },
  {
    method: 'post',
    path: '/conversations/:id/messages',
    accepts: (b) =>
      isObject(b) &&
      typeof b.text === 'string' &&
      b.text.trim().length >= 1 &&
      b.text.trim().length <= 2000 &&
      (b.client_message_id === undefined ||
        b.client_message_id === null ||
        (typeof b.client_message_id === 'string' &&
          CLIENT_MESSAGE_ID_PATTERN.test(b.client_message_id))),
  },
  { method: 'delete', path: '/conversations/:id/messages/:messageId' },
  { method: 'post', path: '/conversations/:id/read', accepts: () => true },
  { method: 'post', path: '/conversations/:id/mark-read', accepts: () => true },
  {
    method: 'post',
    path: '/conversations/:id/participants',
    accepts: (b) =>
      isObject(b) &&
      (b.user_id === undefined || isId(b.user_id)) &&
      (b.user_ids === undefined || isIdList(b.user_ids, 50)) &&
      (b.user_id !== undefined || b.user_ids !== undefined),
  },
  { method: 'delete', path: '/conversations/:id/participants/:userId' },
  { method: 'get', path: '/unread-count' },
  { method: 'get', path: '/sync', query: { since: 'string', limit: 1 } },
  { method: 'get', path: '/blocks' },
  { method: 'post', path: '/blocks/:userId', accepts: () => true },
  { method: 'delete', path: '/blocks/:userId' },
];
export const BODY_ROUTES = ROUTES.filter((r) => r.accepts);
export function routeOf(method: Method, path: string): Route {
  const route = ROUTES.find((r) => r.method === method && r.path === path);
  if (!route) throw new Error(`no route ${method} ${path}`);
  return route;
}
export const PARAM_ROUTES = ROUTES.filter((r) => r.path.includes('/:'));

/** Whether a 2xx is allowed for this query: every parameter the route reads is well-formed. */
export function queryAccepted(route: Route, rawQuery: string): boolean {
  const parsed = parseQuery(rawQuery);
  return Object.entries(route.query ?? {}).every(([name, rule]) => {
    if (Object.keys(parsed).some((key) => key.startsWith(`${name}[`))) return false;
    const value = parsed[name];
    if (value === undefined) return true;
    if (typeof value !== 'string') return false;
    if (name === 'after' && parsed.before !== undefined) return false;
    if (rule === 'string') return value.length >= 1 && value.length <= 200;
    return /^[-+]?\d+$/.test(value) && Number(value) >= rule && Number(value) <= 1e9;
  });
}

/** Whether a 2xx is allowed for this raw body sent with this Content-Type. */
export function rawBodyAccepted(route: Route, text: string, type: string): boolean {
  // What express.json makes of it: in UTF-8, strict JSON (an object or array) up to
  // 32 kB, `{}` when empty, else 400/413; latin1 is a 415. Text in UTF-16 or of
  // another type is not JSON to the routes: only one that ignores its body may pass.
  const utf8 = /^application\/json(; charset=utf-8)?$/.test(type);
  let parsed: unknown = utf8 && text === '' ? {} : undefined;
  let parses = !type.includes('latin1') && (!utf8 || text.length < 32 * 1024);
  if (utf8 && parses && text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parses = false;
    }
    parses &&= typeof parsed === 'object' && parsed !== null;
  }
  return parses && (route.accepts?.(parsed) ?? false);
}
