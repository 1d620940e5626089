import type { Redis } from 'ioredis';
import { withDeadline } from './deadline';
import type { Logger } from './logger';

const PROBE_DEADLINE_MS = 1000;
const PROBE_INTERVAL_MS = 1000;

/**
 * Whether Redis answers. A Redis that hangs with its connections open raises no
 * error: every command just waits, and ioredis keeps each one queued for as long
 * as the hang lasts (a probe counted 50,000 rate-limit commands queued, ~5 KB
 * each). Once a command on a client's path misses its deadline, those commands
 * are not sent at all (limits from this node's memory, broadcasts to this node's
 * sockets only) until a PING answers again, or the connection is made anew.
 */
export class ReplyWatch {
  private suspect = false;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {
    redis.on('ready', () => (this.suspect = false));
  }

  answering(): boolean {
    return !this.suspect;
  }

  /** A command missed its deadline: stop sending until Redis answers a PING. */
  missed(): void {
    if (this.suspect) return;
    this.suspect = true;
    this.logger.warn('redis is not answering: limits from memory, broadcasts local, until it does');
    const probe = () => {
      withDeadline(this.redis.ping(), PROBE_DEADLINE_MS).then(
        () => {
          if (!this.suspect) return;
          this.suspect = false;
          this.logger.info('redis answers again');
        },
        () => {
          if (this.suspect) setTimeout(probe, PROBE_INTERVAL_MS).unref();
        },
      );
    };
    probe();
  }
}
