import { withDeadline } from '../lib/deadline';
import type { ErrorReporter } from './chat-events';
import { writeMayHaveApplied } from './db-errors';
import { retryLater } from './retry-later';

/** How long a write that failed ambiguously waits to read back whether it landed. */
const READ_BACK_DEADLINE_MS = 2000;

/**
 * After a commit-point write failed in a way that may have applied it (its reply
 * lost, a write concern failure): reads back whether it did, as `applied` finds
 * it (what it returns, or null). Found: the caller carries on as a success. Null:
 * it did not apply, or that cannot be told now either; then the caller fails
 * (retryable) and the check is repeated in the background, running `onLandedLater`
 * if it finds the write applied, so that a committed change is never left
 * unannounced. A client's retry of such a change finds it done and announces
 * nothing, so it is announced exactly once.
 */
export async function appliedAfterAll<T>(options: {
  failure: unknown;
  applied: () => Promise<T | null>;
  onLandedLater: (found: T) => Promise<void>;
  report: ErrorReporter;
  context: string;
}): Promise<T | null> {
  const { failure, applied, onLandedLater, report, context } = options;
  if (!writeMayHaveApplied(failure)) return null;
  try {
    return await withDeadline(applied(), READ_BACK_DEADLINE_MS);
  } catch (err) {
    report(err, context);
    void retryLater(
      async () => {
        const found = await applied();
        if (found !== null) await onLandedLater(found);
      },
      report,
      context,
    );
    return null;
  }
}
