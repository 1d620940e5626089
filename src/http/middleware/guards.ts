import cors from 'cors';
import type { RequestHandler } from 'express';
import { AppError } from '../../lib/errors';
import type { Lifecycle } from '../../lib/lifecycle';
import { isOriginAllowed } from '../../lib/origins';

/**
 * CORS for the allow-list, and a refusal for any other browser origin: CORS
 * headers alone only stop a browser from *reading* the answer, not the request.
 */
export function originGuard(allowList: string[]): RequestHandler[] {
  const corsHandler = cors({
    origin: (origin, callback) => callback(null, isOriginAllowed(origin, allowList)),
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600,
  });
  const refuseOthers: RequestHandler = (req, _res, next) => {
    next(
      isOriginAllowed(req.headers.origin, allowList)
        ? undefined
        : new AppError('ORIGIN_NOT_ALLOWED'),
    );
  };
  return [corsHandler, refuseOthers];
}

/** Counts each request in flight; while draining, new requests get a retryable 503. */
export function drainGuard(lifecycle: Lifecycle): RequestHandler {
  return (req, res, next) => {
    if (lifecycle.draining) {
      res.setHeader('Connection', 'close');
      return next(new AppError('SHUTTING_DOWN'));
    }
    void lifecycle.track(
      () =>
        new Promise<void>((resolve) => {
          res.once('finish', resolve);
          res.once('close', resolve);
          next();
        }),
    );
  };
}

/** Answers 503 at once while the driver knows the database is gone, instead of waiting on it. */
export function databaseGuard(isConnected: () => boolean): RequestHandler {
  return (_req, _res, next) =>
    next(isConnected() ? undefined : new AppError('DATABASE_UNAVAILABLE'));
}
