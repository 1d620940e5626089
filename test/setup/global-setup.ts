import { startEmbeddedDatabase } from '../../src/db/embedded';
import { startLocalRedis } from '../../scripts/lib/local-redis';

/**
 * One database server per run: MONGODB_URI when set (any real server), else
 * mongodb-memory-server where it can get a mongod, else the emulator.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    process.env.TEST_DB_KIND = 'MONGODB_URI';
  } else {
    const preference =
      (process.env.EMBEDDED_DB as 'auto' | 'memory-server' | 'emulator' | undefined) ?? 'auto';
    const quiet = {
      info: () => undefined,
      warn: (_o: unknown, msg?: string) => console.warn(`\n[test db] ${msg}`),
    };
    const db = await startEmbeddedDatabase(preference, quiet as never);
    (globalThis as { __TEST_DB__?: { stop(): Promise<void> } }).__TEST_DB__ = db;
    process.env.TEST_MONGODB_URI = db.uri;
    process.env.TEST_DB_KIND = db.kind;
  }
  console.log(`\n[test db] ${process.env.TEST_DB_KIND}: ${process.env.TEST_MONGODB_URI}`);

  // Redis for the multi-node tests: REDIS_URL, else a throwaway redis-server if one is installed.
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
  } else {
    const redis = await startLocalRedis();
    if (redis) {
      (globalThis as { __TEST_REDIS__?: { stop(): Promise<void> } }).__TEST_REDIS__ = redis;
      process.env.TEST_REDIS_URL = redis.url;
    }
  }
  console.log(
    `[test redis] ${process.env.TEST_REDIS_URL ?? 'none (install redis-server to run the multi-node tests)'}`,
  );
}
