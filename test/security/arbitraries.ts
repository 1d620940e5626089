import fc from 'fast-check';

/**
 * Generators for hostile input, shared by the REST and socket fuzzers. Values are
 * JSON-representable (what a client can actually send), with real ids mixed in so
 * that near-valid input reaches past the first check.
 */

/**
 * Reproducible runs with a fixed seed. To explore further, run with another seed
 * and more runs (FUZZ_SEED=123 FUZZ_RUNS=2000); a failure prints the seed to replay.
 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x5ec0_c4a7);
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 150);

export const HEX24 = /^[0-9a-fA-F]{24}$/;

/** Field names the API reads, fields it must never let a client set, and pollution keys. */
export const FIELD_NAMES = [
  'text',
  'content',
  'conversation_id',
  'client_message_id',
  'recipient_id',
  'participant_ids',
  'user_id',
  'user_ids',
  'listing_id',
  'horse_id',
  'request_match_id',
  'message_id',
  'message_ids',
  'up_to_seq',
  'sender_id',
  'user_name',
  'token',
  '_id',
  'seq',
  'is_read',
  'status',
  'created_by',
  'participants',
  'members',
  'blocks',
  'deleted_at',
  '__proto__',
  'constructor',
  'prototype',
  '$where',
  '$set',
];

const OPERATORS = ['$ne', '$gt', '$gte', '$in', '$nin', '$regex', '$where', '$exists', '$expr'];

export function hostileScalar(realIds: string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      1e308,
      '',
      ' ',
      '\u0000',
      '\n\t ',
      '__proto__',
      'constructor',
      'sleep(1000) || true',
      '{"$ne":null}',
      'x'.repeat(2001),
      ' '.repeat(3000),
      '😀'.repeat(1001),
    ),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.integer(),
    fc.double(),
    fc.stringMatching(/^[0-9a-f]{12}$|^[0-9a-f]{23}$|^[0-9a-f]{25}$/),
    fc.stringMatching(/^[0-9a-f]{24}$/),
    fc.constantFrom(...realIds),
    fc.constantFrom(...realIds).map((id) => id.toUpperCase()),
    fc.constantFrom(...realIds).map((id) => ` ${id}`),
  );
}

/** `{ $op: value }`, the shape of a NoSQL injection. */
export function operatorObject(realIds: string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(fc.constantFrom(...OPERATORS), fc.oneof(hostileScalar(realIds), fc.jsonValue()))
    .map(([op, value]) => ({ [op]: value }));
}

/**
 * A real value in the wrong container: what a client sends when it wraps an id or a
 * text in an array or an operator. Validators that check arrays element by element
 * let some of these through.
 */
export function wrongShape(realValues: string[]): fc.Arbitrary<unknown> {
  const real = fc.constantFrom(...realValues);
  return fc.oneof(
    fc.constant([]),
    real.map((v) => [v]),
    real.map((v) => [[v]]),
    real.map((v) => [v, v]),
    fc.constant([[]]),
    real.map((v) => ({ $in: [v] })),
    real.map((v) => ({ $eq: v })),
    real.map((v) => ({ 0: v })),
    real.map((v) => ({ toString: v })),
  );
}

/** Any hostile JSON value, a few levels deep. */
export function hostileValue(realIds: string[]): fc.Arbitrary<unknown> {
  const scalar = hostileScalar(realIds);
  return fc.oneof(
    { weight: 4, arbitrary: scalar },
    { weight: 2, arbitrary: operatorObject(realIds) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.array(scalar, { maxLength: 4 }) },
    { weight: 1, arbitrary: wrongShape(realIds) },
    { weight: 1, arbitrary: fc.constant({ polluted: true, isAdmin: true }) },
  );
}

export const fieldName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** An object as key/value entries: keys may repeat and may be `__proto__` (as on the wire). */
export function hostileEntries(realIds: string[]): fc.Arbitrary<Array<[string, unknown]>> {
  return fc.array(fc.tuple(fieldName, hostileValue(realIds)), { maxLength: 5 });
}

/** Serialises entries as JSON text, keeping repeated and `__proto__` keys as own keys. */
export function entriesToJson(entries: Array<[string, unknown]>): string {
  const members = entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
  return `{${members.join(',')}}`;
}

/**
 * The object a server gets when it parses `entriesToJson(entries)`: JSON.parse
 * makes `__proto__` an own property and lets the last repeated key win.
 */
export function entriesToObject(entries: Array<[string, unknown]>): Record<string, unknown> {
  return JSON.parse(entriesToJson(entries)) as Record<string, unknown>;
}
