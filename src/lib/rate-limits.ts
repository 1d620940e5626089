import type { Redis } from 'ioredis';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { RateLimitConfig } from '../config';
import { DeadlineExceeded, withDeadline } from './deadline';
import { AppError } from './errors';

/** `request`: every authenticated REST request (reads included), on top of its own action's limit. */
export type LimitedAction = 'send' | 'create_conversation' | 'request';

/**
 * Per-user limits shared by REST and every socket of the user (the key is the
 * user id, never the connection), on Redis when there are several nodes.
 */
export interface RateLimits {
  /** Spends one unit of `action` for `userId`; throws AppError RATE_LIMITED when over. */
  consume(action: LimitedAction, userId: string): Promise<void>;
  readonly socketsPerUser: number;
}

export interface Consumer {
  consume(key: string): Promise<unknown>;
}

function memoryLimiter(points: number, duration: number, prefix: string): RateLimiterAbstract {
  return new RateLimiterMemory({ points, duration, keyPrefix: prefix });
}

function redisLimiter(
  points: number,
  duration: number,
  prefix: string,
  redis: RedisStore,
): RateLimiterAbstract {
  return new RateLimiterRedis({
    storeClient: redis.client,
    points,
    duration,
    keyPrefix: `${redis.keyPrefix}:rl:${prefix}`,
    // At once while the connection is down: a command would otherwise wait in the
    // client's offline queue for two reconnection attempts (each up to the 5 s
    // connect timeout when Redis hangs) before the fallback, holding every send.
    rejectIfRedisNotReady: true,
  });
}

/**
 * How long a limit waits for Redis before this node's memory decides. A healthy
 * reply takes well under a millisecond on a LAN; this is paid once per hang (the
 * ReplyWatch then keeps the limits in memory until Redis answers a PING).
 */
const REDIS_LIMIT_DEADLINE_MS = 250;

/**
 * The limit shared through Redis, or this node's own when Redis cannot say: its
 * connection down (refused at once), an error, or no answer in time (a Redis that
 * hangs with its connection open held every send and REST request for good,
 * cluster-state.test.ts). A refusal from Redis is a refusal.
 */
export function sharedOrLocal(shared: Consumer, local: Consumer, replies?: Replies): Consumer {
  return {
    async consume(key) {
      if (replies && !replies.answering()) return local.consume(key);
      try {
        // A shared refusal of the sustained rate followed by a late burst check lands
        // here too: the request is then judged by this node's own limits (lenient,
        // and charged twice to Redis's count once that lands; accepted for an outage).
        return await withDeadline(shared.consume(key), REDIS_LIMIT_DEADLINE_MS);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw err;
        if (err instanceof DeadlineExceeded) replies?.missed();
        return local.consume(key);
      }
    },
  };
}

/** What the limits need to know of Redis's health (lib/reply-watch.ts). */
export interface Replies {
  answering(): boolean;
  missed(): void;
}

/** A Redis client and the prefix of the keys the service keeps there (REDIS_KEY_PREFIX). */
export interface RedisStore {
  client: Redis;
  keyPrefix: string;
  replies?: Replies;
}

/** A sustained rate per second, plus a burst allowance spread over 10 s (none when 0). */
function perSecondWithBurst(
  perSecond: number,
  burst: number,
  prefix: string,
  redis?: RedisStore,
): Consumer {
  const compose = (
    make: (points: number, duration: number, prefix: string) => RateLimiterAbstract,
  ) => {
    const sustained = make(perSecond, 1, prefix);
    return burst > 0
      ? new BurstyRateLimiter(sustained, make(burst, 10, `${prefix}_burst`))
      : sustained;
  };
  const local = compose(memoryLimiter);
  if (!redis) return local;
  return sharedOrLocal(
    compose((p, d, name) => redisLimiter(p, d, name, redis)),
    local,
    redis.replies,
  );
}

/** A limit over one window (no burst). */
function perWindow(points: number, duration: number, prefix: string, redis?: RedisStore): Consumer {
  const local = memoryLimiter(points, duration, prefix);
  if (!redis) return local;
  return sharedOrLocal(redisLimiter(points, duration, prefix, redis), local, redis.replies);
}

export function createRateLimits(config: RateLimitConfig, redis?: RedisStore): RateLimits {
  const consumers: Record<LimitedAction, Consumer> = {
    send: perSecondWithBurst(config.sendPerSecond, config.sendBurst, 'send', redis),
    create_conversation: perWindow(config.conversationsPerHour, 3600, 'conv_create', redis),
    request: perSecondWithBurst(config.requestsPerSecond, config.requestsBurst, 'request', redis),
  };
  return {
    socketsPerUser: config.socketsPerUser,
    async consume(action, userId) {
      try {
        await consumers[action].consume(userId);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          throw AppError.rateLimited(
            rejection.msBeforeNext,
            action === 'request'
              ? 'Too many requests: slow down'
              : `Too many requests: slow down (${action.replace('_', ' ')})`,
          );
        }
        throw rejection;
      }
    },
  };
}

/** No limits: scripts, and tests that are not about limits. */
export const unlimited: RateLimits = {
  socketsPerUser: Number.MAX_SAFE_INTEGER,
  consume: async () => undefined,
};
