import { retryLater, writeOrRetryLater } from '../../src/chat/retry-later';

const failing = (times: number) => {
  let calls = 0;
  const write = async () => {
    calls += 1;
    if (calls <= times) throw new Error(`failure ${calls}`);
  };
  return { write, calls: () => calls };
};

describe('retryLater', () => {
  it('retries until an attempt lands, reporting each failure', async () => {
    const { write, calls } = failing(2);
    const reported: string[] = [];

    const landed = await retryLater(write, (_e, c) => reported.push(c), 'job', [1, 1, 1, 1]);

    expect(landed).toBe(true);
    expect(calls()).toBe(3);
    expect(reported).toEqual(['job (retry 1 of 4 failed)', 'job (retry 2 of 4 failed)']);
  });

  it('gives up when the delays run out', async () => {
    const { write, calls } = failing(10);
    const reported: string[] = [];

    const landed = await retryLater(write, (_e, c) => reported.push(c), 'job', [1, 1]);

    expect(landed).toBe(false);
    expect(calls()).toBe(2);
    expect(reported).toHaveLength(2);
  });
});

describe('writeOrRetryLater', () => {
  it('never rejects: reports the failure and retries in the background', async () => {
    const { write, calls } = failing(1);
    const reported: string[] = [];

    await expect(
      writeOrRetryLater(write, (_e, c) => reported.push(c), 'job', [1]),
    ).resolves.toBeUndefined();
    expect(reported).toEqual(['job']);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls()).toBe(2);
  });

  it('writes once when the first attempt lands', async () => {
    const { write, calls } = failing(0);

    await writeOrRetryLater(write, () => undefined, 'job', [1]);

    expect(calls()).toBe(1);
  });
});
