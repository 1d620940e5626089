import type { Redis } from 'ioredis';
import { withDeadline } from './deadline';
import type { Logger } from './logger';

const PROBE_DEADLINE_MS = 1000;
const PROBE_INTERVAL_MS = 1000;

/**
 * Whether Redis answers, for the rate limits. A Redis that hangs with its
 * connections open raises no error: every command just waits, and ioredis keeps
 * each one queued for as long as the hang lasts (a review counted 50,000 queued
 * rate-limit commands, ~5 KB each). Once a command misses its deadline, the
 * limits are decided in this node's memory, without asking Redis, until a PING
 * answers (or the connection is made anew). Only the limits: a false alarm (a
 * 300 ms pause of Redis or of this event loop) must cost nothing but a moment of
 * per-node limits, so broadcasts and cache invalidations are never held back on it.
 */
export class ReplyWatch {
  private suspect = false;
  private probing = false;
  private ended = false;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {
    redis.on('ready', () => (this.suspect = false));
    redis.on('end', () => (this.ended = true));
  }

  answering(): boolean {
    return !this.suspect;
  }

  /** A command missed its deadline: the limits stop asking Redis until it answers a PING. */
  missed(): void {
    if (this.suspect || this.ended) return;
    this.suspect = true;
    this.logger.warn('redis is not answering: rate limits from memory until it does');
    if (!this.probing) this.probe();
  }

  /** One probe loop at a time; it ends once Redis answers, or the client is closed for good. */
  private probe(): void {
    this.probing = true;
    withDeadline(this.redis.ping(), PROBE_DEADLINE_MS).then(
      () => {
        this.probing = false;
        if (!this.suspect) return;
        this.suspect = false;
        this.logger.info('redis answers again');
      },
      () => {
        if (!this.suspect || this.ended) {
          this.probing = false;
          return;
        }
        setTimeout(() => this.probe(), PROBE_INTERVAL_MS).unref();
      },
    );
  }
}
