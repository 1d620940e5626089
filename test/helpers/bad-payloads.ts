import { Types } from 'mongoose';
import type { ClientToServerEvents } from '../../src/realtime/contract';

/**
 * Generated payloads that every client event must refuse. Each one is invalid
 * for the events it is listed under: values a handler may legitimately accept
 * (null for an optional user_id, a Date that serialises to a valid text…) are
 * left out, so a success ack always means a real validation gap.
 */
export type ClientEvent = keyof ClientToServerEvents;

export const CLIENT_EVENTS: ClientEvent[] = [
  'join_conversation',
  'leave_conversation',
  'send_message',
  'mark_read',
  'message_received',
  'typing',
  'stop_typing',
  'typing_start',
  'typing_stop',
];

export interface BadCase {
  label: string;
  payload: unknown;
}

export interface PayloadIds {
  /** A conversation the acting user is in. */
  conv: string;
  /** The acting user. */
  self: string;
  /** Another user (a participant or not). */
  other: string;
  /** A conversation the acting user is not in. */
  foreignConv: string;
}

function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { conversation_id: value };
  return value;
}

/** Values of the wrong type or shape for any id-like field. */
function hostileValues(ids: PayloadIds): Array<[string, unknown]> {
  return [
    ['null', null],
    ['zero', 0],
    ['a negative number', -1],
    ['a float', 1.5],
    ['NaN (null on the wire)', NaN],
    ['true', true],
    ['false', false],
    ['an empty array', []],
    ['an array holding the id', [ids.conv]],
    ['a nested array', [[ids.conv]]],
    ['an empty object', {}],
    ['{$ne:null}', { $ne: null }],
    ['{$gt:""}', { $gt: '' }],
    ['{$where}', { $where: 'sleep(1000) || true' }],
    ['{$regex}', { $regex: '.*' }],
    ['{$in:[id]}', { $in: [ids.conv] }],
    ['a nested object', { a: { b: { c: ids.conv } } }],
    ['60 levels of nesting', nested(60, ids.conv)],
    ['an empty string', ''],
    ['a space', ' '],
    ['a word', 'hello'],
    ['23 hex digits', ids.conv.slice(1)],
    ['25 hex digits', `${ids.conv}0`],
    ['a padded id', ` ${ids.conv} `],
    ['24 non-hex characters', 'z'.repeat(24)],
    ['an id with a NUL byte', `${ids.conv.slice(0, 23)}\u0000`],
    ['a JSON operator string', JSON.stringify({ $ne: null })],
    ['a 10 000-character string (under the 16 KB frame limit)', 'x'.repeat(10_000)],
    ['the string __proto__', '__proto__'],
    ['binary', Buffer.from(ids.conv)],
  ];
}

/** Own `__proto__` / `constructor` keys, as JSON.parse (and the wire) produce them. */
function pollutionAttempts(ids: PayloadIds): Array<[string, unknown]> {
  const inner = JSON.stringify({
    conversation_id: ids.conv,
    text: 'polluted',
    content: 'polluted',
    user_id: ids.self,
  });
  return [
    ['a __proto__ key holding a valid payload', JSON.parse(`{"__proto__": ${inner}}`)],
    [
      'a constructor.prototype key holding a valid payload',
      JSON.parse(`{"constructor": {"prototype": ${inner}}}`),
    ],
    [
      'a bad id beside a __proto__ key',
      JSON.parse(`{"conversation_id": "nope", "__proto__": ${inner}}`),
    ],
  ];
}

/** Refused by every event: wrong payload types, bad conversation ids, another user's user_id. */
export function badForEveryEvent(ids: PayloadIds): BadCase[] {
  const hostile = hostileValues(ids);
  const cases: BadCase[] = [];
  for (const [what, value] of hostile) cases.push({ label: `payload: ${what}`, payload: value });
  for (const [what, value] of hostile)
    cases.push({ label: `conversation_id: ${what}`, payload: { conversation_id: value } });
  // null means "not given" for user_id; NaN travels as null.
  for (const [what, value] of hostile.filter(([, v]) => v !== null && !Number.isNaN(v))) {
    cases.push({
      label: `user_id: ${what}`,
      payload: { conversation_id: ids.conv, user_id: value },
    });
  }
  cases.push({
    label: 'user_id: another user',
    payload: { conversation_id: ids.conv, user_id: ids.other },
  });
  for (const [what, value] of pollutionAttempts(ids)) cases.push({ label: what, payload: value });
  cases.push({
    label: 'a valid payload wrapped in an array',
    payload: [{ conversation_id: ids.conv, text: 'hi' }],
  });
  return cases;
}

/** Refused by every event except leave_conversation (leaving a room you are not in is a no-op). */
export function badUnlessLeaving(ids: PayloadIds): BadCase[] {
  const unknown = new Types.ObjectId().toString();
  return [
    { label: 'a conversation the user is not in', payload: ids.foreignConv },
    { label: 'a conversation that does not exist', payload: unknown },
    {
      label: '{conversation_id} of a conversation the user is not in',
      payload: { conversation_id: ids.foreignConv, user_id: ids.self },
    },
  ];
}

/** send_message only: bad text/content/sender_id/client_message_id beside a valid conversation id. */
export function badSends(ids: PayloadIds): BadCase[] {
  const hostile = hostileValues(ids);
  const badText: Array<[string, unknown]> = [
    ...hostile.filter(([, v]) => typeof v !== 'string'),
    ['an empty string', ''],
    ['whitespace', ' \n\t '],
    ['2001 characters', 'x'.repeat(2001)],
    ['3000 spaces', ' '.repeat(3000)],
  ];
  const badUser = hostile.filter(([, v]) => v !== null && !Number.isNaN(v));
  const badClientIds: Array<[string, unknown]> = [
    ['an empty string', ''],
    ['a space inside', 'a b'],
    ['101 characters', 'c'.repeat(101)],
    ['a path', '../../etc/passwd'],
    ['a number', 7],
    ['an operator', { $ne: null }],
    ['an array', ['c-1']],
    ['true', true],
  ];
  const conversation_id = ids.conv;
  return [
    ...badText.map(([what, text]) => ({
      label: `text: ${what}`,
      payload: { conversation_id, text },
    })),
    ...badText.map(([what, content]) => ({
      label: `content: ${what}`,
      payload: { conversation_id, content },
    })),
    ...badUser.map(([what, sender_id]) => ({
      label: `sender_id: ${what}`,
      payload: { conversation_id, sender_id, content: 'hi' },
    })),
    {
      label: 'sender_id: another user',
      payload: { conversation_id, sender_id: ids.other, content: 'hi' },
    },
    ...badClientIds.map(([what, client_message_id]) => ({
      label: `client_message_id: ${what}`,
      payload: { conversation_id, text: 'hi', client_message_id },
    })),
    { label: 'no conversation_id', payload: { text: 'hi' } },
    { label: 'a foreign conversation', payload: { conversation_id: ids.foreignConv, text: 'hi' } },
  ];
}
