import type { ErrorRequestHandler, RequestHandler } from 'express';
import { asAvailabilityError } from '../../chat/db-errors';
import { AppError, failureBody, isAppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

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
  if (name === 'CastError') return new AppError('INVALID_ID');
  if (name === 'ValidationError') return new AppError('VALIDATION_FAILED');
  const availability = asAvailabilityError(err);
  if (isAppError(availability)) return availability;
  // A URIError from a malformed percent-encoded path is the client's mistake too.
  if (err instanceof URIError) return new AppError('VALIDATION_FAILED', 'Malformed URL');
  return new AppError('INTERNAL');
}

export function notFoundHandler(): RequestHandler {
  return (_req, _res, next) => next(new AppError('ROUTE_NOT_FOUND'));
}

/** The one place errors become HTTP responses: `{success:false, message, code, errors?}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    if (appError.code === 'INTERNAL') {
      (req.log ?? logger).error({ err }, 'unhandled error');
    } else if (appError.code === 'DATABASE_UNAVAILABLE') {
      (req.log ?? logger).warn(
        { err: { name: (err as Error)?.name, message: (err as Error)?.message } },
        'database unavailable',
      );
    }
    if (res.headersSent) return;
    if (appError.status === 503) res.setHeader('Retry-After', '1');
    res.status(appError.status).json(failureBody(appError));
  };
}
