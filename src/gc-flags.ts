/**
 * Prints the Node flags the service should start with (lib/gc-threads.ts), for
 * the start command: `node $(node dist/src/gc-flags.js) dist/src/index.js`.
 * Prints nothing on a bad GC_THREADS: the service then reports it at start-up.
 */
import os from 'node:os';
import { ConfigError, gcThreadsModeFrom } from './config';
import { gcNodeFlags } from './lib/gc-threads';

try {
  process.stdout.write(gcNodeFlags(gcThreadsModeFrom(), os.availableParallelism()).join(' '));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
}
