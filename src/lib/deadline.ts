/**
 * The promise, or a rejection after `ms`: for calls that may never settle, such
 * as the Redis adapter's server-side emits while Redis is away (its node count
 * fails before any timer of its own is set).
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
