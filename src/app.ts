import { randomUUID } from 'node:crypto';
import { refuseHead } from './http/middleware/request-shape';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { ChatServices } from './chat';
import { loadActor } from './chat/user.service';
import { authenticate, type ActorLoader } from './http/middleware/authenticate';
import { errorHandler, notFoundHandler } from './http/middleware/errors';
import { chatRoutes } from './http/routes/chat.routes';
import { karmyqRoutes } from './http/routes/karmyq.routes';
import { databaseGuard, drainGuard, originGuard } from './http/middleware/guards';
import type { MetricsAccess } from './config';
import { refuseOversizedQuery, strictQueryParser } from './http/query-parser';
import { healthRoutes, metricsRoute, type ReadinessCheck } from './http/routes/health.routes';
import { Lifecycle } from './lib/lifecycle';
import type { Metrics } from './lib/metrics';
import type { TokenVerifier } from './lib/jwt';
import { redactUrl, type Logger } from './lib/logger';

export interface AppDeps {
  chat: ChatServices;
  verifier: TokenVerifier;
  logger: Logger;
  readiness: ReadinessCheck;
  bodyLimit?: string;
  loadActor?: ActorLoader;
  /** Browser origins allowed (CORS and origin check); default any. */
  corsOrigins?: string[];
  lifecycle?: Lifecycle;
  metrics?: Metrics;
  /** Who may read /metrics (default: anyone, as in development). */
  metricsAccess?: MetricsAccess;
  /** Whether the database connection is up (fast 503 when not). */
  databaseConnected?: () => boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the Express app. Never listens: server.ts does. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('query parser', strictQueryParser);
  app.use(helmet());
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id =
          typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // 503s are expected during outages and drains: warn, not error, and without the
      // stack trace of the Error pino-http makes up for any 5xx (one per refused request
      // during a drain, reading like a fault).
      customLogLevel: (_req, res, err) =>
        res.statusCode === 503 ? 'warn' : err || res.statusCode >= 500 ? 'error' : 'info',
      customErrorObject: (_req, res, _err, logged: Record<string, unknown>) =>
        res.statusCode === 503 ? { ...logged, err: undefined } : logged,
      customErrorMessage: (_req, res) =>
        res.statusCode === 503 ? 'request refused retryably (503)' : 'request errored',
      serializers: {
        req: (req: { id: unknown; method: unknown; url: unknown }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
        }),
        // Status only: response headers could one day carry a cookie.
        res: (res: { statusCode: unknown }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(refuseOversizedQuery);
  const lifecycle = deps.lifecycle ?? new Lifecycle();
  app.use(healthRoutes(deps.readiness, lifecycle));
  if (deps.metrics) app.use(metricsRoute(deps.metrics, deps.metricsAccess ?? 'open'));
  app.use(originGuard(deps.corsOrigins ?? ['*']));
  app.use(drainGuard(lifecycle));
  app.use(['/api/chat', '/messages'], refuseHead);
  // Bodies are parsed only once the caller is authenticated: 32 kB of nested JSON
  // from anyone cost the event loop ~4× a flat body's parse (an anonymous flood of
  // them slowed other users' requests from 137 to 601 ms, p50).
  const authenticated = [
    authenticate(deps.verifier, deps.loadActor ?? loadActor, deps.chat.limits),
    express.json({ limit: deps.bodyLimit ?? '32kb', strict: true }),
  ];
  const databaseUp = databaseGuard(deps.databaseConnected ?? (() => true));
  app.use('/api/chat', databaseUp, chatRoutes(deps.chat, authenticated));
  app.use('/messages', databaseUp, karmyqRoutes(deps.chat, authenticated));
  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger, deps.metrics));
  return app;
}
