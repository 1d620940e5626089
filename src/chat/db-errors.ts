import { NOT_CONNECTED_MESSAGE } from '../lib/error-mapping';

interface DuplicateKeyLike {
  code?: unknown;
  keyPattern?: Record<string, unknown>;
  keyValue?: Record<string, unknown>;
  message?: unknown;
}

/**
 * Whether an error is a unique-index violation on `field`. Checked by duck typing
 * (several driver copies can be loaded) and by the message text, because not every
 * wire-compatible server fills keyPattern.
 */
export function isDuplicateKeyOn(err: unknown, field: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as DuplicateKeyLike;
  if (e.code !== 11000 && e.code !== 11001) return false;
  if (e.keyPattern && field in e.keyPattern) return true;
  if (e.keyValue && field in e.keyValue) return true;
  return typeof e.message === 'string' && e.message.includes(field);
}

export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as DuplicateKeyLike).code === 11000;
}

/** Failures raised before a command left for the server: it cannot have been applied. */
const NEVER_SENT = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoWaitQueueTimeoutError',
  'MongoPoolClosedError',
]);

/**
 * Whether a failed write may have been applied all the same: its reply was lost
 * (a connection dropped or a pool cleared mid-command), or the server applied it
 * and then reported a write concern failure. Only a failure to reach the server
 * at all rules it out.
 */
export function writeMayHaveApplied(err: unknown): boolean {
  if (!(err instanceof Error)) return true;
  if (NEVER_SENT.has(err.name)) return false;
  return !NOT_CONNECTED_MESSAGE.test(err.message);
}
