import { ConfigError, loadConfig } from './config';
import { gcRunsOnMainThread } from './lib/gc-threads';
import { createLogger } from './lib/logger';
import { startServer } from './server';

/** Entry point: read config, start, and stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Configuration error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // The mode is applied by the start command (gc-flags.ts), not here: both are logged
  // so that a start that bypassed it (plain `node dist/src/index.js`) shows.
  logger.info(
    { gcThreads: config.gcThreads, gcOnMainThread: gcRunsOnMainThread() },
    'garbage collection threads',
  );
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled promise rejection'),
  );
  process.on('uncaughtException', (err) => logger.fatal({ err }, 'uncaught exception'));

  const server = await startServer(config, logger);
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    server.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('Failed to start:', err);
  process.exit(1);
});
