import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { withDeadline } from '../lib/deadline';
import type { Logger } from '../lib/logger';

/**
 * Scale-out over Redis with the Redis Streams adapter. Chosen over the Pub/Sub
 * `@socket.io/redis-adapter` because (1) it supports connection state recovery
 * (sessions live in Redis, so a socket can recover on another node) and (2) a
 * node that loses Redis briefly resumes the stream without losing packets,
 * where Pub/Sub drops whatever was published meanwhile.
 */
export interface ScaleOut {
  adapter: ReturnType<typeof createAdapter>;
  redis: Redis;
  ping(): Promise<boolean>;
  /** False while the Redis connection is down (messages from other nodes may be missed). */
  connected(): boolean;
  close(): Promise<void>;
}

export async function connectScaleOut(
  url: string,
  options: { streamMaxLen: number; keyPrefix: string },
  logger: Logger,
): Promise<ScaleOut> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
  });
  redis.on('error', (err: Error) => logger.warn({ err: { message: err.message } }, 'redis error'));
  await redis.connect();
  const adapter = createAdapter(redis, {
    // Every name the adapter uses in Redis, its Pub/Sub channels included (they
    // span all Redis databases): another environment on the same Redis would
    // otherwise count as nodes of this cluster and receive its traffic.
    streamName: `${options.keyPrefix}:socket.io`,
    sessionKeyPrefix: `${options.keyPrefix}:sio:session:`,
    channelPrefix: `${options.keyPrefix}:socket.io`,
    // Bounds Redis memory; also how far back a recovering socket can catch up.
    maxLen: options.streamMaxLen,
    // Our payloads are JSON: skip the per-packet binary scan.
    onlyPlaintext: true,
  });
  return {
    adapter,
    redis,
    async ping() {
      try {
        return (await withDeadline(redis.ping(), 1000)) === 'PONG';
      } catch {
        return false;
      }
    },
    connected: () => redis.status === 'ready',
    async close() {
      redis.disconnect();
    },
  };
}
