import { AppError, isAppError } from './errors';

/**
 * Maps anything thrown to an AppError: the catalog's own errors pass through,
 * known client mistakes (body-parser, casts) become 4xx, an unreachable database
 * a retryable 503, and everything else INTERNAL. Shared by REST and sockets.
 */
const UNAVAILABLE_NAMES = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongooseServerSelectionError',
  'MongoPoolClearedError',
  'MongoPoolClosedError',
  'MongoWaitQueueTimeoutError',
  'MongoOperationTimeoutError',
  // Class names, for errors whose `name` is their own (PoolClearedOnNetworkError).
  'PoolClearedError',
  'PoolClosedError',
  'WaitQueueTimeoutError',
]);

/**
 * Driver labels of failures worth retrying: the server stepped down or the pool
 * was reset under the operation (a failover, a stalled server).
 */
const RETRYABLE_LABELS = ['RetryableWriteError', 'PoolRequestedRetry', 'ResetPool'];

/**
 * The error's name and the names of the classes it descends from, so that a
 * subclass the driver adds (a MongoNetworkError by another name) is recognised.
 * Duck-typed: more than one copy of the driver can be loaded.
 */
function lineage(err: Error): string[] {
  const names = [err.name];
  for (
    let proto = Object.getPrototypeOf(err) as object | null;
    proto && proto !== Error.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
    if (typeof ctor?.name === 'string') names.push(ctor.name);
  }
  return names;
}

function hasRetryableLabel(err: unknown): boolean {
  const labels = (err as { errorLabels?: unknown } | null)?.errorLabels;
  const list = labels instanceof Set ? [...labels] : Array.isArray(labels) ? labels : [];
  return list.some((label) => RETRYABLE_LABELS.includes(String(label)));
}

/**
 * Socket-level failures. The driver can let one escape unwrapped: writing to a
 * connection the server has just closed rejects with Node's own EPIPE error
 * ("This socket has been ended by the other party"), not a MongoNetworkError.
 */
const NETWORK_ERROR_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Mongoose's words for a command it never sent (no connection to send it on). */
export const NOT_CONNECTED_MESSAGE = /buffering timed out|Client must be connected/i;

/** Maps "the database is unreachable" errors to a retryable 503; passes others through. */
export function asAvailabilityError(err: unknown): unknown {
  if (err instanceof Error && lineage(err).some((name) => UNAVAILABLE_NAMES.has(name))) {
    return new AppError('DATABASE_UNAVAILABLE');
  }
  if (hasRetryableLabel(err)) return new AppError('DATABASE_UNAVAILABLE');
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) {
    return new AppError('DATABASE_UNAVAILABLE');
  }
  if (
    err instanceof Error &&
    (NOT_CONNECTED_MESSAGE.test(err.message) || /connection .* closed/i.test(err.message))
  ) {
    return new AppError('DATABASE_UNAVAILABLE');
  }
  return err;
}

/** body-parser error types → our catalog; all are the client's mistake. */
const BODY_PARSER_ERRORS: Record<string, AppError> = {
  'entity.parse.failed': new AppError('MALFORMED_JSON'),
  'entity.too.large': new AppError('PAYLOAD_TOO_LARGE'),
  'entity.verify.failed': new AppError('MALFORMED_JSON'),
  'encoding.unsupported': new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content encoding'),
  'charset.unsupported': new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported charset'),
  'request.aborted': new AppError('VALIDATION_FAILED', 'Request aborted'),
  'request.size.invalid': new AppError(
    'VALIDATION_FAILED',
    'Request size did not match content length',
  ),
  'stream.encoding.set': new AppError('VALIDATION_FAILED', 'Invalid request stream'),
  'parameters.too.many': new AppError('PAYLOAD_TOO_LARGE', 'Too many parameters'),
};

/** Turns anything thrown into an AppError; unknown errors become INTERNAL. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && BODY_PARSER_ERRORS[type]) return BODY_PARSER_ERRORS[type];
  const name = (err as { name?: unknown } | null)?.name;
  // A malformed id that reached a query: the same code as every other input mistake.
  if (name === 'CastError') return new AppError('VALIDATION_FAILED', 'Invalid id');
  if (name === 'ValidationError') return new AppError('VALIDATION_FAILED');
  const availability = asAvailabilityError(err);
  if (isAppError(availability)) return availability;
  // A URIError from a malformed percent-encoded path is the client's mistake too.
  if (err instanceof URIError) return new AppError('VALIDATION_FAILED', 'Malformed URL');
  const clientError = exposedClientError(err);
  if (clientError) return clientError;
  return new AppError('INTERNAL');
}

/**
 * An error the body parser raised without a type we know (a compressed body that
 * does not decompress, say): it marks its own 4xx status as safe to expose, so it
 * is the client's mistake, never a 500.
 */
function exposedClientError(err: unknown): AppError | undefined {
  const { expose, status } = (err ?? {}) as { expose?: unknown; status?: unknown };
  if (expose !== true || typeof status !== 'number' || status < 400 || status > 499) return;
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE');
  return new AppError('VALIDATION_FAILED', 'The request body could not be read');
}
