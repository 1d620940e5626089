import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics, one registry per server instance (tests run several). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    socketsConnected: new Gauge({
      name: 'chat_sockets_connected',
      help: 'Connected sockets on this node',
      registers: [registry],
    }),
    messagesSent: new Counter({
      name: 'chat_messages_sent_total',
      help: 'Messages stored (REST and socket)',
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'chat_socket_ack_seconds',
      help: 'Time from a socket event to its acknowledgement',
      labelNames: ['event'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'chat_rate_limited_total',
      help: 'Requests and events refused by a rate limit',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'chat_rejected_total',
      help: 'Requests and events refused with a 4xx, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    databaseErrors: new Counter({
      name: 'chat_database_errors_total',
      help: 'Operations failed because the database was unavailable',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Counts one failed operation by what went wrong. */
export function countFailure(metrics: Metrics | undefined, code: string, status: number): void {
  if (!metrics) return;
  if (code === 'RATE_LIMITED') metrics.rateLimited.inc();
  if (code === 'DATABASE_UNAVAILABLE') metrics.databaseErrors.inc();
  if (status >= 400 && status < 500) metrics.rejected.inc({ code });
}
