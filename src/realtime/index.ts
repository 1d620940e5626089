import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ChatServices } from '../chat';
import type { TokenVerifier } from '../lib/jwt';
import type { Logger } from '../lib/logger';

export interface RealtimeDeps {
  chat: ChatServices;
  verifier: TokenVerifier;
  logger: Logger;
}

export interface Realtime {
  io: Server;
  close(): Promise<void>;
}

/** Placeholder until the realtime issue: Socket.IO attached, no handlers yet. */
export function createRealtime(http: HttpServer, _deps: RealtimeDeps): Realtime {
  const io = new Server(http, { perMessageDeflate: false });
  return { io, close: () => new Promise<void>((resolve) => io.close(() => resolve())) };
}
