import type { GcThreadsMode } from '../config';

/**
 * Node flags for where V8 collects garbage. On one CPU (a one-vCPU container, a
 * process pinned with taskset), `--single-threaded-gc` keeps marking, sweeping,
 * scavenging and compaction on the main thread, in steps of well under a
 * millisecond between events.
 *
 * Why: with one CPU, a "concurrent" GC thread can only run by preempting the
 * event loop for a whole scheduler slice. `npm run bench` measured it: with
 * V8's defaults each old-generation collection held single incremental-marking
 * steps of 13–24 ms (the main thread waiting for the core), and the messages
 * sent meanwhile were what made send → deliver p99 3.4–4.7× the floor relay's;
 * with the flag the biggest step was 0.2–0.6 ms. With two or more CPUs V8's
 * defaults are better: the work really runs in parallel.
 *
 * These are command-line flags (the start command asks `gc-flags.ts` for them):
 * switching them at run time with v8.setFlagsFromString crashed V8 (a check on
 * its concurrent-marking job), so they are never changed in a running process.
 */
export const MAIN_THREAD_GC_FLAG = '--single-threaded-gc';

/** `auto`: main-thread GC when one CPU is available; `main`: always; `default`: V8's choice. */
export function gcNodeFlags(mode: GcThreadsMode, cpus: number): string[] {
  const mainThread = mode === 'main' || (mode === 'auto' && cpus <= 1);
  return mainThread ? [MAIN_THREAD_GC_FLAG] : [];
}

/** Whether this process was started with garbage collection on the main thread. */
export function gcRunsOnMainThread(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.includes(MAIN_THREAD_GC_FLAG);
}
