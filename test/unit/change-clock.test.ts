import { ChangeClock } from '../../src/chat/change-clock';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ChangeClock', () => {
  it('keeps the horizon strictly below every stamp taken after it, even within the same millisecond', async () => {
    const clock = new ChangeClock();
    for (let i = 0; i < 500; i++) {
      const horizon = clock.horizon();
      const stamp = await clock.stamp(async (at) => at);
      expect(stamp.getTime()).toBeGreaterThan(horizon.getTime());
    }
  });

  it('holds the horizon below a stamp whose write is in flight until it settles', async () => {
    const clock = new ChangeClock();
    let finish = (): void => undefined;
    let stampedAt = 0;
    const write = clock.stamp((at) => {
      stampedAt = at.getTime();
      return new Promise<void>((resolve) => (finish = resolve));
    });
    await sleep(5);

    expect(clock.horizon().getTime()).toBeLessThan(stampedAt);
    finish();
    await write;
    expect(clock.horizon().getTime()).toBeGreaterThanOrEqual(stampedAt);
  });

  it('releases a write rejected by a unique index at once, and holds any other failure for the grace', async () => {
    const clock = new ChangeClock(0, 100);
    const duplicate = Object.assign(new Error('E11000 duplicate key error'), { code: 11000 });
    let duplicateAt = 0;
    await expect(
      clock.stamp((at) => ((duplicateAt = at.getTime()), Promise.reject(duplicate))),
    ).rejects.toBe(duplicate);
    await sleep(2);
    expect(clock.horizon().getTime()).toBeGreaterThanOrEqual(duplicateAt);

    let failedAt = 0;
    await expect(
      clock.stamp((at) => ((failedAt = at.getTime()), Promise.reject(new Error('reset')))),
    ).rejects.toThrow('reset');
    await sleep(20);
    expect(clock.horizon().getTime()).toBeLessThan(failedAt);
    await sleep(120);
    expect(clock.horizon().getTime()).toBeGreaterThanOrEqual(failedAt);
  });

  it('keeps stamps above every horizon handed out, and horizons from going back, when the wall clock steps back', async () => {
    const clock = new ChangeClock();
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(10_000);
      const cursor = clock.horizon().getTime();
      now.mockReturnValue(8_000); // NTP stepped the clock back 2 s

      const stamp = (await clock.stamp(async (at) => at)).getTime();
      const next = clock.horizon().getTime();

      expect(cursor).toBe(9_999);
      // A change after the step is still after the client's cursor: /sync returns it.
      expect(stamp).toBeGreaterThan(cursor);
      expect(next).toBeGreaterThanOrEqual(cursor);
      expect(next).toBeLessThan(stamp);
      now.mockReturnValue(10_500); // the clock has caught up
      expect(clock.horizon().getTime()).toBeGreaterThanOrEqual(stamp);
    } finally {
      now.mockRestore();
    }
  });
});
