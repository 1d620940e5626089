type Stoppable = { stop(): Promise<void> };

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __TEST_DB__?: Stoppable; __TEST_REDIS__?: Stoppable };
  await Promise.all([g.__TEST_DB__?.stop(), g.__TEST_REDIS__?.stop()]);
}
