import { io as connect, type Socket } from 'socket.io-client';
import { createLogger } from '../../src/lib/logger';
import type {
  ClientToServerEvents,
  ServerToClientEvents,
  AckBody,
} from '../../src/realtime/contract';
import { startServer, type RunningServer } from '../../src/server';
import { testConfig } from './tokens';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The whole server (HTTP + Socket.IO) on port 0, on the per-file test database. */
export function startTestServer(
  overrides: Record<string, string> = {},
  logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
): Promise<RunningServer> {
  return startServer(testConfig(overrides), logger, { skipDatabase: true });
}

export interface ConnectOptions {
  auth?: Record<string, unknown>;
  query?: Record<string, string>;
  extraHeaders?: Record<string, string>;
}

/** A real socket.io-client connection over WebSocket; rejects with the connect_error. */
export function connectClient(
  url: string,
  token: string | null,
  options: ConnectOptions = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = connect(url, {
    auth: options.auth ?? (token ? { token } : {}),
    query: options.query,
    extraHeaders: options.extraHeaders,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/**
 * A real socket.io-client connection that reconnects by itself, as an app's does
 * (connectClient's do not): for connection state recovery. The caller closes it.
 */
export async function connectReconnecting(url: string, token: string): Promise<ClientSocket> {
  const socket: ClientSocket = connect(url, {
    auth: { token },
    transports: ['websocket'],
    reconnectionDelay: 50,
    forceNew: true,
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

/** Records every payload of `event` a socket receives. */
export function record<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(
    event as 'new_message',
    ((payload: Parameters<ServerToClientEvents[E]>[0]) => {
      seen.push(payload);
    }) as never,
  );
  return seen;
}

/** Resolves with the next payload of `event`, or rejects after `ms`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  ms = 3000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(event)}`)), ms);
    socket.once(
      event as 'new_message',
      ((payload: Parameters<ServerToClientEvents[E]>[0]) => {
        clearTimeout(timer);
        resolve(payload);
      }) as never,
    );
  });
}

/** Emits with an acknowledgement and resolves with the ack body. */
export function emitAck(
  socket: ClientSocket,
  event: keyof ClientToServerEvents,
  payload: unknown,
  ms = 5000,
): Promise<AckBody> {
  return socket.timeout(ms).emitWithAck(event, payload) as Promise<AckBody>;
}

/** Waits until `predicate` holds (polling), for events that arrive asynchronously. */
export async function waitFor(predicate: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Gives in-flight events time to arrive before asserting that something did NOT happen. */
export const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));
