import { io, type Socket } from 'socket.io-client';

/** Real socket.io-client connections over WebSocket, opened in batches. */
export type BenchSocket = Socket;

export function connectOne(url: string, token: string, timeoutMs = 15_000): Promise<BenchSocket> {
  const socket = io(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Opens one socket per token, `batch` at a time; rejects on the first failure. */
export async function connectMany(
  url: string,
  tokens: readonly string[],
  batch = 100,
): Promise<BenchSocket[]> {
  const sockets: BenchSocket[] = [];
  try {
    for (let i = 0; i < tokens.length; i += batch) {
      sockets.push(
        ...(await Promise.all(tokens.slice(i, i + batch).map((t) => connectOne(url, t)))),
      );
    }
  } catch (err) {
    closeAll(sockets);
    throw err;
  }
  return sockets;
}

export function closeAll(sockets: readonly BenchSocket[]): void {
  for (const socket of sockets) socket.close();
}

/** Emits with an ack; resolves with the ack body, rejects after `ms`. */
export function emitAck(socket: BenchSocket, event: string, payload: unknown, ms = 10_000) {
  return socket.timeout(ms).emitWithAck(event, payload) as Promise<{ success: boolean }>;
}
