import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import type { ChatServices } from '../chat';
import type { Actor } from '../chat/types';
import { loadActor as loadActorFromDb } from '../chat/user.service';
import type { TokenVerifier } from '../lib/jwt';
import type { Logger } from '../lib/logger';
import { attachBroadcaster } from './broadcaster';
import { registerConversationHandlers } from './handlers/conversation.handlers';
import { registerMessageHandlers } from './handlers/message.handlers';
import { registerTypingHandlers } from './handlers/typing.handlers';
import { handshakeAuth } from './handshake-auth';
import { userRoom } from './rooms';
import type { ChatServer } from './socket-types';

export interface RealtimeDeps {
  chat: ChatServices;
  verifier: TokenVerifier;
  logger: Logger;
  loadActor?: (userId: string) => Promise<Actor | null>;
  /** A cluster adapter (Redis) for several nodes; the in-memory one when absent. */
  adapter?: ServerOptions['adapter'];
}

export interface Realtime {
  io: ChatServer;
  close(): Promise<void>;
}

/** Socket.IO on the HTTP server: handshake auth, personal rooms, handlers per feature. */
export function createRealtime(http: HttpServer, deps: RealtimeDeps): Realtime {
  const io: ChatServer = new Server(http, {
    // Compression costs CPU per frame and memory per socket; chat frames are small.
    perMessageDeflate: false,
    maxHttpBufferSize: 64 * 1024,
    // A socket that drops briefly gets its rooms and missed room broadcasts back.
    // Middlewares run again, so a recovered socket is re-authenticated. Never the
    // only safety net: clients resync with GET /api/chat/sync.
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: false },
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
  });
  const { chat, logger } = deps;
  io.use(handshakeAuth(deps.verifier, deps.loadActor ?? loadActorFromDb, logger));
  const detach = attachBroadcaster(io, chat.events);

  io.on('connection', (socket) => {
    const actor = socket.data.actor;
    void socket.join(userRoom(actor.id));
    logger.info({ socketId: socket.id, userId: actor.id }, 'socket connected');
    registerConversationHandlers(socket, chat, logger);
    registerMessageHandlers(socket, chat, logger);
    registerTypingHandlers(socket, logger);
    socket.on('disconnect', (reason) =>
      logger.info({ socketId: socket.id, reason }, 'socket disconnected'),
    );
  });

  return {
    io,
    close: () =>
      new Promise<void>((resolve) => {
        detach();
        io.close(() => resolve());
      }),
  };
}
