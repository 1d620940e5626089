import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createApp } from './app';
import {
  ChangeClock,
  ChatEventHub,
  createChatServices,
  ParticipationCache,
  type ChatServices,
} from './chat';
import type { Config } from './config';
import { connectDatabase, databaseIsReachable, disconnectDatabase } from './db/connect';
import { startEmbeddedDatabase, type RunningDatabase } from './db/embedded';
import { clearEmbeddedUri, publishEmbeddedUri } from './db/embedded-uri-file';
import { createTokenVerifier } from './lib/jwt';
import type { Logger } from './lib/logger';
import { createRealtime, type Realtime } from './realtime';
import { Lifecycle } from './lib/lifecycle';
import { createMetrics, type Metrics } from './lib/metrics';
import mongoose from 'mongoose';
import { createRateLimits } from './lib/rate-limits';

/** How long a shutdown waits for sockets to close after telling them to go, before cutting. */
const CONNECTIONS_CLOSE_GRACE_MS = 1000;

/**
 * How long a connection may take to send its request. With Node's defaults
 * (60 s for the headers, checked every 30 s) connections that dribbled header
 * lines, or sent nothing, were closed only after 75-78 s, and 20,400 of them
 * from one client exhausted the process's file descriptors. A request body is
 * at most 32 kB; long-polling GETs and WebSockets are not affected (the limits
 * cover receiving the request, not answering it).
 */
export const CONNECTION_LIMITS = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  connectionsCheckingInterval: 2_000,
};

export interface RunningServer {
  port: number;
  url: string;
  http: HttpServer;
  chat: ChatServices;
  realtime: Realtime;
  /** What /metrics serves; none is collected while it is off. */
  metrics?: Metrics;
  databaseUri: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Connect to this database instead of MONGODB_URI / the embedded one (tests). */
  databaseUri?: string;
  dbName?: string;
  /** Skip connecting: the caller already connected Mongoose (tests). */
  skipDatabase?: boolean;
}

/** Starts HTTP + Socket.IO on one port, on a database (embedded when none is configured). */
export async function startServer(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningServer> {
  let embedded: RunningDatabase | undefined;
  let databaseUri = options.databaseUri ?? config.mongodbUri;
  if (!options.skipDatabase) {
    if (!databaseUri) {
      embedded = await startEmbeddedDatabase(config.embeddedDb, logger);
      databaseUri = embedded.uri;
      publishEmbeddedUri(embedded.uri);
      logger.info(
        { database: embedded.kind, uri: embedded.uri },
        `MONGODB_URI is unset: using embedded database (${embedded.kind})`,
      );
    }
    await connectDatabase(databaseUri, options.dbName);
    logger.info('database connected');
  }
  if (config.metricsAccess === 'off') {
    logger.info('GET /metrics is off in production until METRICS_TOKEN is set');
  }
  if (config.jwt.usingDevSecret) {
    logger.warn(
      'JWT_SECRET is unset: using the built-in development secret (refused when NODE_ENV=production)',
    );
  }

  // Loaded only when used: a single node keeps ioredis and the adapter (~2 MB of
  // heap that every full collection would mark) out of its process.
  const scaleOut = config.redisUrl
    ? await (
        await import('./realtime/redis-adapter')
      ).connectScaleOut(
        config.redisUrl,
        { streamMaxLen: config.redisStreamMaxLen, keyPrefix: config.redisKeyPrefix },
        logger,
      )
    : undefined;
  logger.info(
    scaleOut
      ? 'socket.io adapter: Redis Streams (multi-node)'
      : 'socket.io adapter: in-memory (single node)',
  );

  const chat = createChatServices({
    events: new ChatEventHub((err, context) => logger.error({ err }, context)),
    clock: new ChangeClock(config.syncSettleMs),
    limits: createRateLimits(
      config.limits,
      scaleOut && {
        client: scaleOut.redis,
        keyPrefix: config.redisKeyPrefix,
        replies: scaleOut.replies,
      },
    ),
    participation: new ParticipationCache({ ttlMs: config.participationCacheTtlMs }),
  });
  // Other nodes' invalidations are missed while Redis is away: no cached send
  // context outlives a lost or regained connection (any of the node's).
  scaleOut?.onLinkChange(() => chat.participation.clear());
  const verifier = createTokenVerifier(config.jwt);
  const lifecycle = new Lifecycle();
  // Off (production without METRICS_TOKEN), nobody can read them: none are collected
  // (prom-client's default collectors alone observe every garbage collection).
  const metrics = config.metricsAccess === 'off' ? undefined : createMetrics();
  if (metrics) chat.events.subscribe({ messageCreated: () => metrics.messagesSent.inc() });
  const app = createApp({
    chat,
    verifier,
    logger,
    lifecycle,
    metrics,
    metricsAccess: config.metricsAccess,
    corsOrigins: config.corsOrigins,
    bodyLimit: config.bodyLimit,
    databaseConnected: () => mongoose.connection.readyState === 1,
    readiness: async (): Promise<Record<string, boolean>> => {
      const [database, redis] = await Promise.all([databaseIsReachable(), scaleOut?.ping()]);
      return scaleOut ? { database, redis: Boolean(redis) } : { database };
    },
  });
  const http = createServer(CONNECTION_LIMITS, app);
  const realtime = createRealtime(http, {
    chat,
    verifier,
    logger,
    lifecycle,
    metrics,
    adapter: scaleOut?.adapter,
    clusterReliable: scaleOut?.connected,
    clusterCanPublish: scaleOut?.canPublish,
    corsOrigins: config.corsOrigins,
    reauthGraceMs: config.reauthGraceMs,
    roomAuditIntervalMs: config.roomAuditIntervalMs,
  });

  // Every TCP connection, upgraded ones included, so a shutdown can end the stragglers.
  const connections = new Set<Socket>();
  http.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  logger.info({ port }, `chat service listening on http://localhost:${port}`);

  let stopping: Promise<void> | undefined;
  /**
   * Graceful stop: refuse new work (/ready turns 503, new requests, sockets and
   * events get a retryable refusal), stop accepting connections, let accepted
   * sends finish and answer, tell sockets to reconnect elsewhere, then close the
   * database. Bounded by SHUTDOWN_TIMEOUT_MS in src/index.ts.
   */
  const stop = () => {
    stopping ??= (async () => {
      lifecycle.draining = true;
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      const drained = await lifecycle.waitIdle(Math.max(config.shutdownTimeoutMs - 2000, 500));
      if (!drained)
        logger.warn(
          { inflight: lifecycle.active },
          'shutdown: work still in flight at the deadline',
        );
      // Socket.IO before the HTTP server settles: open WebSockets would hold http.close() forever.
      const realtimeClosed = realtime.close();
      // io.close() settles only once no connection is left, and a client can still hold one
      // (a request stuck past the deadline, headers never finished, a WebSocket that ignores
      // the close frame): give sockets a moment to get their notice, then drop the rest.
      await Promise.race([
        realtimeClosed,
        delay(CONNECTIONS_CLOSE_GRACE_MS, undefined, { ref: false }),
      ]);
      connections.forEach((socket) => socket.destroy());
      await Promise.all([realtimeClosed, closed]);
      await scaleOut?.close();
      if (!options.skipDatabase) await disconnectDatabase();
      if (embedded) {
        clearEmbeddedUri();
        await embedded.stop();
      }
    })();
    return stopping;
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    http,
    chat,
    realtime,
    metrics,
    databaseUri: databaseUri ?? '',
    stop,
  };
}
