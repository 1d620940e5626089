import { isDuplicateKey } from './db-errors';

/**
 * Stamps every change to a message (insert, read, delivery, delete) with
 * `changed_at`, the key of GET /sync. A change is stamped just before its write
 * commits, so a sync must never move its horizon past a stamp whose write is
 * still in flight: it would skip that change forever once it commits.
 *
 * `horizon()` is therefore the oldest in-flight stamp (minus 1 ms), else the
 * previous millisecond (a stamp may still be taken in the current one), minus
 * `settleMs` — a margin for other nodes' in-flight writes, whose stamps this
 * process cannot see (set it on multi-node deployments).
 */
export class ChangeClock {
  private last = 0;
  /** The highest horizon handed out: clients hold it as a cursor. */
  private issued = 0;
  private readonly inflight = new Map<number, number>();

  constructor(
    private readonly settleMs = 0,
    /** A failed write may still commit server-side; hold the horizon back this long. */
    private readonly failedWriteGraceMs = 10_000,
  ) {}

  /** Runs `write` with a fresh stamp, holding the horizon below it until the write is settled. */
  async stamp<T>(write: (stamp: Date) => Promise<T>): Promise<T> {
    const at = this.begin();
    try {
      const result = await write(new Date(at));
      this.end(at);
      return result;
    } catch (err) {
      // A unique-index violation is a definite non-commit (a lost seq race, a replayed
      // client_message_id): holding the horizon back for it would only stall every sync.
      if (isDuplicateKey(err)) this.end(at);
      else setTimeout(() => this.end(at), this.failedWriteGraceMs).unref();
      throw err;
    }
  }

  /** The newest instant up to which every stamped change is committed and visible. */
  horizon(): Date {
    // Not now: a change stamped later in this same millisecond would fall at or below it.
    let horizon = Date.now() - 1 - this.settleMs;
    for (const at of this.inflight.keys()) horizon = Math.min(horizon, at - 1);
    // Never back below one already handed out (the wall clock stepped back). Safe:
    // every stamp in flight was taken above the horizons issued before it (begin).
    horizon = Math.max(horizon, this.issued);
    this.issued = horizon;
    return new Date(horizon);
  }

  private begin(): number {
    // Never go backwards, even if the wall clock does, and never at or below a
    // horizon already handed out: a client holding it as its cursor would skip it.
    const at = Math.max(Date.now(), this.last, this.issued + 1);
    this.last = at;
    this.inflight.set(at, (this.inflight.get(at) ?? 0) + 1);
    return at;
  }

  private end(at: number): void {
    const n = (this.inflight.get(at) ?? 1) - 1;
    if (n <= 0) this.inflight.delete(at);
    else this.inflight.set(at, n);
  }
}
