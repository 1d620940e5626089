import type { Redis } from 'ioredis';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { RateLimitConfig } from '../config';
import { AppError } from './errors';

/** `request`: any authenticated REST request (reads included), on top of its own action's limit. */
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

interface Consumer {
  consume(key: string): Promise<unknown>;
}

function limiter(
  points: number,
  duration: number,
  prefix: string,
  redis?: RedisStore,
): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ points, duration, keyPrefix: prefix });
  if (!redis) return memory;
  // If Redis is unreachable, each node falls back to its own memory limiter rather than failing sends.
  const shared = new RateLimiterRedis({
    storeClient: redis.client,
    points,
    duration,
    keyPrefix: `${redis.keyPrefix}:rl:${prefix}`,
    insuranceLimiter: memory,
    // At once while the connection is down: a command would otherwise wait in the
    // client's offline queue for two reconnection attempts (each up to the 5 s
    // connect timeout when Redis hangs) before the fallback, holding every send.
    rejectIfRedisNotReady: true,
  });
  // And when Redis hangs with the connection open (no error ever comes): without a
  // deadline every send and REST request waited for good (cluster-state.test.ts).
  return new RLWrapperTimeouts({
    limiter: shared,
    timeoutMs: REDIS_LIMIT_DEADLINE_MS,
    insuranceLimiter: memory,
  });
}

/**
 * How long a limit waits for Redis before this node's memory decides. A healthy
 * reply takes well under a millisecond on a LAN; this is paid per limit on every
 * send and REST request only while Redis hangs.
 */
const REDIS_LIMIT_DEADLINE_MS = 250;

/** A Redis client and the prefix of the keys the service keeps there (REDIS_KEY_PREFIX). */
export interface RedisStore {
  client: Redis;
  keyPrefix: string;
}

/** A sustained rate per second, plus a burst allowance spread over 10 s (none when 0). */
function perSecondWithBurst(
  perSecond: number,
  burst: number,
  prefix: string,
  redis?: RedisStore,
): Consumer {
  const sustained = limiter(perSecond, 1, prefix, redis);
  return burst > 0
    ? new BurstyRateLimiter(sustained, limiter(burst, 10, `${prefix}_burst`, redis))
    : sustained;
}

export function createRateLimits(config: RateLimitConfig, redis?: RedisStore): RateLimits {
  const consumers: Record<LimitedAction, Consumer> = {
    send: perSecondWithBurst(config.sendPerSecond, config.sendBurst, 'send', redis),
    create_conversation: limiter(config.conversationsPerHour, 3600, 'conv_create', redis),
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
