import type { Logger } from '../lib/logger';
import { startEmulator, type RunningDatabase } from './emulator';

export type { RunningDatabase };

/**
 * The embedded database used when MONGODB_URI is unset: a real mongod through
 * mongodb-memory-server where it can obtain one (a machine with internet), else
 * the wire-compatible emulator. `preference` skips the first when set.
 */
export async function startEmbeddedDatabase(
  preference: 'auto' | 'memory-server' | 'emulator',
  log: Pick<Logger, 'info' | 'warn'>,
): Promise<RunningDatabase> {
  if (preference !== 'emulator') {
    try {
      const { MongoMemoryReplSet } = await import('mongodb-memory-server');
      // A single-node replica set, like production (change streams, retryable writes).
      const replSet = await MongoMemoryReplSet.create({ replSet: { count: 1 } });
      return {
        uri: replSet.getUri(),
        kind: 'mongodb-memory-server (real mongod, single-node replica set)',
        stop: async () => {
          await replSet.stop();
        },
      };
    } catch (err) {
      if (preference === 'memory-server') throw err;
      log.warn(
        { reason: err instanceof Error ? err.message.split('\n')[0] : String(err) },
        'mongodb-memory-server could not start a real mongod; falling back to the mongo-java-server emulator',
      );
    }
  }
  return startEmulator();
}
