import type { Socket } from 'node:net';
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

/**
 * Counts each request in flight until its response finishes or closes, or its
 * connection closes: a pipelined request queued behind another gets neither
 * response event when the client drops the connection (its response never
 * started), and each stayed in flight for good, so every later shutdown waited
 * out its whole deadline (`req`'s own 'close' will not do: it fires once the
 * body is read). While draining, new requests get a retryable 503.
 */
export function drainGuard(lifecycle: Lifecycle): RequestHandler {
  // One 'close' listener per connection, however many requests it pipelines.
  const openOn = new WeakMap<Socket, Set<() => void>>();
  const untilClosed = (connection: Socket, done: () => void): (() => void) => {
    let waiting = openOn.get(connection);
    if (!waiting) {
      const set = new Set<() => void>();
      openOn.set(connection, set);
      connection.once('close', () => set.forEach((settle) => settle()));
      waiting = set;
    }
    waiting.add(done);
    const registered = waiting;
    return () => registered.delete(done);
  };
  return (req, res, next) => {
    if (lifecycle.draining) {
      res.setHeader('Connection', 'close');
      return next(new AppError('SHUTTING_DOWN'));
    }
    void lifecycle.track(
      () =>
        new Promise<void>((resolve) => {
          const forget = untilClosed(req.socket, resolve);
          const done = () => {
            forget();
            resolve();
          };
          res.once('finish', done);
          res.once('close', done);
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
