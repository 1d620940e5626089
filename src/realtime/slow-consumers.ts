import type { Logger } from '../lib/logger';
import type { ChatServer } from './socket-types';

/**
 * Bytes a connection may keep waiting to be written to its client: well over a
 * thousand chat events. Beyond it on two sweeps in a row, the client is not
 * reading (a reading one drains that much in milliseconds, even while a
 * recovery replays its missed packets) and the connection is dropped.
 */
const MAX_BACKLOG_BYTES = 1024 * 1024;
const SWEEP_INTERVAL_MS = 1000;

/** The parts of an engine.io connection the sweep reads (not in its public types). */
interface EngineConnection {
  id: string;
  writeBuffer: Array<{ data?: unknown }>;
  transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
  close(discard?: boolean): void;
}

/**
 * What a connection has not yet handed to the kernel: the WebSocket's own
 * buffer and the packets engine.io holds while that one is busy (or, on
 * long-polling, until the client polls). Counting stops past the bound.
 */
function backlogBytes(connection: EngineConnection): number {
  let bytes = connection.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of connection.writeBuffer) {
    if (bytes > MAX_BACKLOG_BYTES) break;
    const data = packet.data;
    bytes += typeof data === 'string' ? data.length : Buffer.isBuffer(data) ? data.length : 16;
  }
  return bytes;
}

/**
 * Drops connections whose client stopped reading. Without it, a socket that
 * never read (and answered no ping, or sent unsolicited pongs so that none was
 * due) while the server kept writing to it grew the server's memory without
 * bound: 266 to 922 MB at ~12 MB/s in a probe, freed only when it closed. The
 * connection is closed with its backlog discarded and its TCP socket destroyed
 * (a close frame would wait behind the backlog). Returns the stop function.
 */
export function dropSlowConsumersEvery(io: ChatServer, logger: Logger): () => void {
  let overLastTime = new WeakSet<EngineConnection>();
  const timer = setInterval(() => {
    const over = new WeakSet<EngineConnection>();
    const { clients } = io.engine as unknown as { clients: Record<string, EngineConnection> };
    for (const connection of Object.values(clients)) {
      const backlog = backlogBytes(connection);
      if (backlog <= MAX_BACKLOG_BYTES) continue;
      if (!overLastTime.has(connection)) {
        over.add(connection);
        continue;
      }
      logger.warn(
        { connectionId: connection.id, backlogBytes: backlog },
        'dropping a connection whose client does not read',
      );
      const webSocket = connection.transport?.socket;
      connection.close(true);
      webSocket?.terminate?.();
    }
    overLastTime = over;
  }, SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
