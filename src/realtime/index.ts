import { randomBytes } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { Server, type ServerOptions } from 'socket.io';
import type { ChatServices } from '../chat';
import type { Actor } from '../chat/types';
import { loadActor as loadActorFromDb } from '../chat/user.service';
import type { TokenVerifier } from '../lib/jwt';
import { Lifecycle } from '../lib/lifecycle';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { isOriginAllowed } from '../lib/origins';
import { attachBroadcaster } from './broadcaster';
import {
  abandonRecovery,
  completeRecovery,
  confirmRecoveredRooms,
  replayMissed,
  withCheckedRecovery,
} from './checked-recovery';
import { shareInvalidations } from './cluster-invalidation';
import { auditRoomsEvery } from './room-audit';
import { userSocketCounter } from './socket-count';
import type { RealtimeContext } from './context';
import { socketEventDispatcher } from './ack';
import { dropSlowConsumersEvery } from './slow-consumers';
import { conversationHandlers } from './handlers/conversation.handlers';
import { messageHandlers } from './handlers/message.handlers';
import { typingHandlers } from './handlers/typing.handlers';
import { RecoveryAdapter } from './recovery-adapter';
import { handshakeAuth } from './handshake-auth';
import { userRoom } from './rooms';
import type { ChatServer, ChatSocket } from './socket-types';
import { TokenExpiry } from './token-expiry';

/** How long a shutdown lets each connection flush its last packets before closing it outright. */
const NOTICE_FLUSH_MS = 1000;

export interface RealtimeDeps {
  chat: ChatServices;
  verifier: TokenVerifier;
  logger: Logger;
  loadActor?: (userId: string) => Promise<Actor | null>;
  /** A cluster adapter (Redis) for several nodes; the in-memory one when absent. */
  adapter?: ServerOptions['adapter'];
  /** With a cluster adapter: false while this node may miss other nodes' messages. */
  clusterReliable?: () => boolean;
  /** Cluster mode: whether this node can publish to Redis now (redis-adapter.ts canPublish). */
  clusterCanPublish?: () => boolean;
  lifecycle?: Lifecycle;
  metrics?: Metrics;
  /** Browser origins allowed to open a socket; default any. */
  corsOrigins?: string[];
  /** Grace after token expiry before the socket is disconnected. */
  reauthGraceMs?: number;
  /** With a cluster adapter: how often this node audits its conversation rooms; 0 = never. */
  roomAuditIntervalMs?: number;
}

export interface Realtime {
  io: ChatServer;
  /** Tells every socket to reconnect elsewhere, then closes Socket.IO (and the HTTP server). */
  close(): Promise<void>;
}

/**
 * The largest frame a socket may send (beyond, Socket.IO closes that socket).
 * The largest real payload, a send of 2,000 characters all escaped in JSON
 * (`\uXXXX`), is ~12 KB; the parse cost of a frame grows with its size and,
 * for nested JSON, steeply (a 64 KB `[[[…]]]` took 3.75 ms against 0.04 ms flat).
 */
export const MAX_FRAME_BYTES = 16 * 1024;

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Connections with an engine.io session but no Socket.IO socket yet (between
 * the transport handshake and the authenticated CONNECT). Without a bound, an
 * anonymous flood of polling handshakes (7,400/s, each session held until its
 * connect timeout) took the heap to 1.77 GB in 48 s, on its way to running out.
 * Beyond it new handshakes are refused until some complete or time out.
 */
export const MAX_PENDING_HANDSHAKES = 5_000;

/** Socket.IO on the HTTP server: handshake checks, personal rooms, handlers per feature. */
export function createRealtime(http: HttpServer, deps: RealtimeDeps): Realtime {
  const corsOrigins = deps.corsOrigins ?? ['*'];
  // Connections between their transport handshake and their socket's connection
  // (or their close): counted, not derived from engine and socket totals, which
  // several CONNECTs on one connection or a namespace-level disconnect skew.
  const pendingConnections = new Set<object>();
  const ctx: RealtimeContext = {
    logger: deps.logger,
    lifecycle: deps.lifecycle ?? new Lifecycle(),
    metrics: deps.metrics,
  };
  const io: ChatServer = new Server(http, {
    // Compression costs CPU per frame and memory per socket; chat frames are small.
    perMessageDeflate: false,
    maxHttpBufferSize: MAX_FRAME_BYTES,
    // A connection that has not sent Socket.IO's CONNECT by then is closed: an
    // engine.io session costs ~5 KB before anyone is authenticated (default 45 s).
    connectTimeout: CONNECT_TIMEOUT_MS,
    // A socket that drops briefly gets its rooms and missed room broadcasts back.
    // Middlewares run again, so a recovered socket is re-authenticated. Never the
    // only safety net: clients resync with GET /api/chat/sync.
    // 30 s covers a mobile network blip; every broadcast is buffered for that long, and a
    // 2-minute buffer measurably raised p99 send latency under load.
    connectionStateRecovery: { maxDisconnectionDuration: 30 * 1000, skipMiddlewares: false },
    cors: { origin: corsOrigins.includes('*') ? true : corsOrigins },
    // `cors` only sets headers, and browsers do not apply CORS to WebSockets at all:
    // the Origin check that actually refuses other sites' pages happens here.
    allowRequest: (req, callback) => {
      if (ctx.lifecycle.draining) return callback('Server is shutting down', false);
      if (pendingConnections.size >= MAX_PENDING_HANDSHAKES) {
        return callback('Server busy: too many connections not yet authenticated', false);
      }
      callback(
        isOriginAllowed(req.headers.origin, corsOrigins) ? null : 'Origin not allowed',
        isOriginAllowed(req.headers.origin, corsOrigins),
      );
    },
    // One node: our buffer for recovery (recovery-adapter.ts); several: the cluster's.
    // Either way a restored session is checked before the socket gets anything back.
    adapter: withCheckedRecovery(deps.adapter ?? RecoveryAdapter),
  });
  const { chat, logger } = deps;
  const canPublish = deps.clusterCanPublish ?? (() => true);
  const socketsOf = userSocketCounter(io, Boolean(deps.adapter), logger, canPublish);
  const loadActor = deps.loadActor ?? loadActorFromDb;
  const authenticate = handshakeAuth(deps.verifier, loadActor, logger, {
    socketsOf,
    maxSocketsPerUser: chat.limits.socketsPerUser,
  });
  io.use((socket, next) =>
    authenticate(socket, (err) => {
      if (err) abandonRecovery(socket);
      next(err);
    }),
  );
  io.use((socket, next) => {
    const warn = (err: unknown) =>
      logger.warn({ err, socketId: socket.id }, 'recovery not checked: starts afresh');
    completeRecovery(socket, () => randomBytes(16).toString('base64url'), warn)
      .catch(warn)
      .finally(() => next());
  });
  const detach = attachBroadcaster(io, chat.events);
  if (deps.adapter) {
    shareInvalidations(io, chat.participation, {
      reliable: deps.clusterReliable ?? (() => true),
      canPublish,
      logger,
    });
  }
  const stopSweeps = dropSlowConsumersEvery(io, logger);
  const stopAudits = deps.adapter
    ? auditRoomsEvery(io, deps.roomAuditIntervalMs ?? 0, logger)
    : null;

  const tokenExpiry = new TokenExpiry(
    deps.verifier,
    loadActor,
    deps.reauthGraceMs ?? 60_000,
    logger,
  );
  // Shared by every socket (Socket.IO calls both with the socket as `this`), so a
  // connection holds no closures of its own: see ack.ts.
  const events = socketEventDispatcher(
    [conversationHandlers(chat), messageHandlers(chat), typingHandlers(chat), tokenExpiry.handlers],
    ctx,
  );
  // Shared listeners (the connection comes as `this`): no closure per connection.
  function forgetPending(this: object): void {
    pendingConnections.delete(this);
  }
  io.engine.on('connection', (connection: { once(event: 'close', fn: () => void): void }) => {
    pendingConnections.add(connection);
    connection.once('close', forgetPending);
  });
  function onDisconnect(this: ChatSocket, reason: string): void {
    tokenExpiry.forget(this);
    events.forget(this);
    // The service has one namespace: a client that leaves it (a namespace-level
    // disconnect) has no use for its connection, which would otherwise stay open,
    // answering pings, outside the per-user socket cap.
    if (this.conn.readyState === 'open') this.conn.close();
    deps.metrics?.socketsConnected.dec();
    logger.info({ socketId: this.id, userId: this.data.actor.id, reason }, 'socket disconnected');
  }

  io.on('connection', (socket) => {
    pendingConnections.delete(socket.conn);
    const actor = socket.data.actor;
    void socket.join(userRoom(actor.id));
    deps.metrics?.socketsConnected.inc();
    logger.info(
      { socketId: socket.id, userId: actor.id, recovered: socket.recovered },
      'socket connected',
    );
    socket.onAny(events.dispatch);
    socket.on('disconnect', onDisconnect);
    tokenExpiry.watch(socket);
    if (socket.recovered) {
      replayMissed(socket);
      confirmRecoveredRooms(socket).catch((err: unknown) =>
        logger.warn({ err, socketId: socket.id }, 'recovered rooms not confirmed'),
      );
    }
  });

  return {
    io,
    close: async () => {
      detach();
      // Awaited last: a run in progress must not delay the notices below.
      stopSweeps();
      const auditsStopped = stopAudits?.();
      // This node's sockets only: through the adapter it would reach (and make
      // reconnect) every client of the cluster.
      io.local.emit('server_shutdown', {
        message: 'This server is shutting down: reconnect and resync',
        reconnect: true,
      });
      // io.close() drops whatever a busy connection has not written yet, this notice
      // included. Close each connection the graceful way first: engine.io flushes its
      // buffer, then closes, and the client sees a transport close (so it reconnects).
      const connections = new Set([...io.sockets.sockets.values()].map((socket) => socket.conn));
      const flushed = [...connections].map(
        (conn) =>
          new Promise<void>((resolve) => {
            conn.once('close', () => resolve());
            conn.close();
          }),
      );
      await Promise.race([Promise.all(flushed), delay(NOTICE_FLUSH_MS, undefined, { ref: false })]);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await auditsStopped;
    },
  };
}
