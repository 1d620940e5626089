/**
 * Configuration, parsed and validated once at boot. The only module that reads
 * process.env: everything else receives a Config.
 */
export interface Config {
  nodeEnv: string;
  port: number;
  mongodbUri: string | undefined;
  /** Which embedded database to try when MONGODB_URI is unset. */
  embeddedDb: 'auto' | 'memory-server' | 'emulator';
  jwt: {
    secret: string | undefined;
    publicKey: string | undefined;
    usingDevSecret: boolean;
    issuer: string | undefined;
    audience: string | undefined;
    clockToleranceSec: number;
  };
  logLevel: string;
  bodyLimit: string;
  shutdownTimeoutMs: number;
  /** Margin the /sync horizon keeps behind now, for other nodes' in-flight writes. */
  syncSettleMs: number;
  /** Scale-out: Socket.IO over Redis when set; the in-memory adapter otherwise. */
  redisUrl: string | undefined;
  redisStreamMaxLen: number;
  /**
   * Prefix of every Redis key, stream and Pub/Sub channel the service uses, so
   * that environments (or apps) sharing one Redis never hear each other.
   */
  redisKeyPrefix: string;
  limits: RateLimitConfig;
  /** Browser origins allowed for REST CORS and the Socket.IO handshake; ['*'] = any. */
  corsOrigins: string[];
  /** How long a socket whose token expired may re-authenticate before it is disconnected. */
  reauthGraceMs: number;
  /** How long a send trusts a cached conversation without an invalidation; 0 = no cache. */
  participationCacheTtlMs: number;
  /** Cluster mode: how often a node checks its conversation rooms against the database; 0 = never. */
  roomAuditIntervalMs: number;
  /** Where V8 collects garbage (lib/gc-threads.ts): a start-up flag, chosen by gc-flags.ts. */
  gcThreads: GcThreadsMode;
  /** Who may read /metrics: a bearer token, else open outside production and off in it. */
  metricsAccess: MetricsAccess;
}

/**
 * Who may read /metrics. It shares the API's port, so "an internal network only"
 * cannot be left to the network: `{token}` asks for `Authorization: Bearer
 * <METRICS_TOKEN>` (what a Prometheus scrape config sends), `off` serves nothing.
 */
export type MetricsAccess = 'open' | 'off' | { token: string };

/** `auto`: main-thread GC when one CPU is available; `main`: always; `default`: V8's own choice. */
export type GcThreadsMode = 'auto' | 'main' | 'default';

export interface RateLimitConfig {
  sendPerSecond: number;
  sendBurst: number;
  /** Any authenticated REST request, reads included (each action's own limit still applies). */
  requestsPerSecond: number;
  requestsBurst: number;
  conversationsPerHour: number;
  socketsPerUser: number;
}

/** How long a send trusts a cached conversation without an invalidation (chat/participation-cache.ts). */
export const DEFAULT_PARTICIPATION_TTL_MS = 30_000;

export const DEV_JWT_SECRET = 'dev-only-insecure-jwt-secret-change-me';

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function intFrom(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}

/** Multi-line PEM keys are often passed with literal "\n" in env files. */
function pem(raw: string | undefined): string | undefined {
  return raw ? raw.replace(/\\n/g, '\n') : undefined;
}

/**
 * CORS_ORIGINS: comma-separated origins, or `*`. Unset: every origin outside
 * production; in production none (same-origin only) until configured.
 */
function origins(raw: string | undefined, nodeEnv: string): string[] {
  if (raw === undefined || raw.trim() === '') return nodeEnv === 'production' ? [] : ['*'];
  const list = raw
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        `CORS_ORIGINS entries must look like https://host[:port] or * (got "${origin}")`,
      );
    }
  }
  return list;
}

/** GC_THREADS, also read on its own by gc-flags.ts, which picks the node flags before start-up. */
export function gcThreadsModeFrom(env: Env = process.env): GcThreadsMode {
  return oneOf(env, 'GC_THREADS', ['auto', 'main', 'default'] as const, 'auto');
}

function redisKeyPrefix(value: string | undefined): string {
  if (!value) return 'chat';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) {
    throw new ConfigError('REDIS_KEY_PREFIX must be 1-64 characters of [A-Za-z0-9_.-]');
  }
  return value;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV || 'development';
  const mongodbUri = env.MONGODB_URI || undefined;
  // The embedded database keeps everything in memory: a production node on it would
  // lose every message at its next restart, while /ready said all was well.
  if (!mongodbUri && nodeEnv === 'production') {
    throw new ConfigError(
      'MONGODB_URI is required when NODE_ENV=production (the embedded database is for development)',
    );
  }
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    throw new ConfigError('MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
  }
  const publicKey = pem(env.JWT_PUBLIC_KEY);
  let secret = env.JWT_SECRET || undefined;
  let usingDevSecret = false;
  if (!secret && !publicKey) {
    if (nodeEnv === 'production') {
      throw new ConfigError('JWT_SECRET (or JWT_PUBLIC_KEY) is required when NODE_ENV=production');
    }
    secret = DEV_JWT_SECRET;
    usingDevSecret = true;
  }
  if (secret && nodeEnv === 'production' && secret.length < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 characters in production');
  }
  const logLevel = oneOf(
    env,
    'LOG_LEVEL',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    nodeEnv === 'test' ? 'silent' : 'info',
  );
  return {
    nodeEnv,
    port: intFrom(env, 'PORT', 3000, 0, 65535),
    mongodbUri,
    embeddedDb: oneOf(env, 'EMBEDDED_DB', ['auto', 'memory-server', 'emulator'] as const, 'auto'),
    jwt: {
      secret,
      publicKey,
      usingDevSecret,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
      clockToleranceSec: intFrom(env, 'JWT_CLOCK_TOLERANCE_SEC', 5, 0, 300),
    },
    logLevel,
    bodyLimit: '32kb',
    shutdownTimeoutMs: intFrom(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 100, 120000),
    // Several nodes: other nodes' in-flight writes are invisible here, so keep a margin.
    syncSettleMs: intFrom(env, 'SYNC_SETTLE_MS', redisUrl ? 1000 : 0, 0, 60000),
    redisUrl,
    redisStreamMaxLen: intFrom(env, 'REDIS_STREAM_MAXLEN', 50000, 1000, 10_000_000),
    redisKeyPrefix: redisKeyPrefix(env.REDIS_KEY_PREFIX),
    limits: {
      sendPerSecond: intFrom(env, 'RATE_SEND_PER_SEC', 5, 1, 100000),
      sendBurst: intFrom(env, 'RATE_SEND_BURST', 20, 0, 100000),
      requestsPerSecond: intFrom(env, 'RATE_REQUESTS_PER_SEC', 20, 1, 100000),
      requestsBurst: intFrom(env, 'RATE_REQUESTS_BURST', 200, 0, 100000),
      conversationsPerHour: intFrom(env, 'RATE_CONVERSATIONS_PER_HOUR', 60, 1, 1000000),
      socketsPerUser: intFrom(env, 'MAX_SOCKETS_PER_USER', 10, 1, 100000),
    },
    corsOrigins: origins(env.CORS_ORIGINS, nodeEnv),
    reauthGraceMs: intFrom(env, 'REAUTH_GRACE_MS', 60000, 0, 3600000),
    participationCacheTtlMs: intFrom(
      env,
      'PARTICIPATION_CACHE_TTL_MS',
      DEFAULT_PARTICIPATION_TTL_MS,
      0,
      600000,
    ),
    roomAuditIntervalMs: intFrom(env, 'ROOM_AUDIT_INTERVAL_MS', 60000, 0, 3600000),
    gcThreads: gcThreadsModeFrom(env),
    metricsAccess: metricsAccessFrom(env.METRICS_TOKEN, nodeEnv),
  };
}

const METRICS_TOKEN_MIN = 16;

function metricsAccessFrom(token: string | undefined, nodeEnv: string): MetricsAccess {
  if (token === undefined || token === '') return nodeEnv === 'production' ? 'off' : 'open';
  if (token.length < METRICS_TOKEN_MIN) {
    throw new ConfigError(`METRICS_TOKEN must be at least ${METRICS_TOKEN_MIN} characters`);
  }
  return { token };
}
