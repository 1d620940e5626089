import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, failureBody } from '../../lib/errors';
import { toAppError } from '../../lib/error-mapping';
import type { Logger } from '../../lib/logger';
import { countFailure, type Metrics } from '../../lib/metrics';

export function notFoundHandler(): RequestHandler {
  return (_req, _res, next) => next(new AppError('ROUTE_NOT_FOUND'));
}

/** The one place errors become HTTP responses: `{success:false, message, code, errors?}`. */
export function errorHandler(logger: Logger, metrics?: Metrics): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    countFailure(metrics, appError.code, appError.status);
    if (appError.code === 'INTERNAL') {
      (req.log ?? logger).error({ err }, 'unhandled error');
    } else if (appError.code === 'DATABASE_UNAVAILABLE') {
      (req.log ?? logger).warn(
        { err: { name: (err as Error)?.name, message: (err as Error)?.message } },
        'database unavailable',
      );
    }
    if (res.headersSent) return;
    if (appError.retryAfterMs !== undefined) {
      res.setHeader('Retry-After', String(Math.ceil(appError.retryAfterMs / 1000)));
    } else if (appError.status === 503) {
      res.setHeader('Retry-After', '1');
    }
    res.status(appError.status).json(failureBody(appError));
  };
}
