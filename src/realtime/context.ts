import type { Lifecycle } from '../lib/lifecycle';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';

/** What every socket handler shares: logging, the drain state, metrics. */
export interface RealtimeContext {
  logger: Logger;
  lifecycle: Lifecycle;
  metrics?: Metrics;
}
