/**
 * Preloaded (`node --expose-gc --require …/gc-hook.js`) into both servers of the
 * memory benchmark only: SIGUSR2 runs a full garbage collection, so RSS is read
 * after garbage from the connection burst is gone, whatever each heap's GC timing.
 */
process.on('SIGUSR2', () => {
  const { gc } = globalThis as { gc?: () => void };
  gc?.();
});
