import { withDeadline } from '../lib/deadline';
import type { ErrorReporter } from './chat-events';
import { writeMayHaveApplied } from './db-errors';
import { jittered, RETRY_DELAYS_MS } from './retry-later';

/** How long a write that failed ambiguously waits to read back whether it landed. */
const READ_BACK_DEADLINE_MS = 2000;

interface ReadBack<T> {
  failure: unknown;
  /** Finds this attempt's own write (not a later one's), or null. */
  applied: () => Promise<T | null>;
  onLandedLater: (found: T) => Promise<void>;
  report: ErrorReporter;
  context: string;
}

/**
 * After a commit-point write failed in a way that may have applied it (its reply
 * lost, a write concern failure): reads back whether it did. Found: the caller
 * carries on as a success. Otherwise the caller fails (retryable), and the write
 * is looked for again in the background, at RETRY_DELAYS_MS, whether the read
 * failed too or found nothing (the command may still be queued on a slow server):
 * found then, `onLandedLater` completes it, so a committed change is never left
 * unannounced. A client's retry finds such a change done and announces nothing,
 * so it is announced exactly once.
 */
export async function appliedAfterAll<T>(readBack: ReadBack<T>): Promise<T | null> {
  if (!writeMayHaveApplied(readBack.failure)) return null;
  let found: T | null = null;
  try {
    found = await withDeadline(readBack.applied(), READ_BACK_DEADLINE_MS);
  } catch (err) {
    readBack.report(err, readBack.context);
  }
  if (found === null) watchForLateLanding(readBack, 0);
  return found;
}

function watchForLateLanding<T>(readBack: ReadBack<T>, attempt: number): void {
  if (attempt >= RETRY_DELAYS_MS.length) return;
  const next = () => watchForLateLanding(readBack, attempt + 1);
  setTimeout(() => {
    readBack
      .applied()
      .then(
        (found) => (found === null ? next() : readBack.onLandedLater(found)),
        (err: unknown) => {
          readBack.report(err, `${readBack.context} (check ${attempt + 1} failed)`);
          next();
        },
      )
      .catch((err: unknown) => readBack.report(err, `${readBack.context}: completing it failed`));
  }, jittered(RETRY_DELAYS_MS[attempt])).unref();
}
