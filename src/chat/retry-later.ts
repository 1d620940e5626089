import type { ErrorReporter } from './chat-events';

/** Waits before each background attempt of a write that failed after its change was committed. */
export const RETRY_DELAYS_MS: readonly number[] = [500, 2_000, 8_000, 30_000];

/**
 * Retries an idempotent write in the background until one attempt lands, reporting
 * each failure; resolves true once it landed, false when the delays run out. Used
 * for the follow-up writes of a change whose commit point has passed, so the
 * request still succeeds. The timers do not hold the process open: a shutdown in
 * between costs what a crash does.
 */
export function retryLater(
  write: () => Promise<unknown>,
  report: ErrorReporter,
  context: string,
  delaysMs: readonly number[] = RETRY_DELAYS_MS,
): Promise<boolean> {
  return new Promise((resolve) => {
    const attempt = (index: number) => {
      if (index >= delaysMs.length) {
        resolve(false);
        return;
      }
      setTimeout(() => {
        write().then(
          () => resolve(true),
          (err: unknown) => {
            report(err, `${context} (retry ${index + 1} of ${delaysMs.length} failed)`);
            attempt(index + 1);
          },
        );
      }, jittered(delaysMs[index])).unref();
    };
    attempt(0);
  });
}

/** ±25 %, so that the retries of many failures at once do not all land together. */
export const jittered = (ms: number): number => ms * (0.75 + Math.random() * 0.5);

/**
 * Runs an idempotent follow-up write now; if it fails, reports it and retries it
 * in the background (above). Never rejects, so the caller's change still succeeds.
 */
export async function writeOrRetryLater(
  write: () => Promise<unknown>,
  report: ErrorReporter,
  context: string,
  delaysMs: readonly number[] = RETRY_DELAYS_MS,
): Promise<void> {
  try {
    await write();
  } catch (err) {
    report(err, context);
    void retryLater(write, report, context, delaysMs);
  }
}
