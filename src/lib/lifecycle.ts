/**
 * Tracks work in flight (REST requests, socket events) so that a graceful
 * shutdown can stop taking new work, let what was accepted finish and answer,
 * and only then close the database.
 */
export class Lifecycle {
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  draining = false;

  /** Runs `work` counted as in flight. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inflight += 1;
    try {
      return await work();
    } finally {
      this.inflight -= 1;
      if (this.inflight === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
    }
  }

  get active(): number {
    return this.inflight;
  }

  /** Resolves when nothing is in flight, or after `timeoutMs` (returns false then). */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
