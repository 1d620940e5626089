import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { sharedOrLocal, type Consumer, type Replies } from '../../src/lib/rate-limits';

/** The shared limit stands in for Redis: one that never answers, refuses, or fails. */
function shared(answer: () => Promise<unknown>): Consumer & { calls: number } {
  const consumer = {
    calls: 0,
    consume: () => {
      consumer.calls += 1;
      return answer();
    },
  };
  return consumer;
}

function watch(): Replies & { missedCount: number; answeringNow: boolean } {
  const replies = {
    missedCount: 0,
    answeringNow: true,
    answering: () => replies.answeringNow,
    missed: () => {
      replies.missedCount += 1;
      replies.answeringNow = false;
    },
  };
  return replies;
}

describe('sharedOrLocal (a rate limit through Redis, with this node as fallback)', () => {
  it('decides from memory once Redis misses its deadline, and stops asking it until it answers', async () => {
    const hanging = shared(() => new Promise(() => undefined));
    const local = new RateLimiterMemory({ points: 2, duration: 60 });
    const replies = watch();
    const limit = sharedOrLocal(hanging, local, replies);

    await expect(limit.consume('u')).resolves.toBeInstanceOf(RateLimiterRes);
    expect(replies.missedCount).toBe(1);
    await expect(limit.consume('u')).resolves.toBeInstanceOf(RateLimiterRes);
    // The memory limit applies meanwhile, and Redis was asked once only.
    await expect(limit.consume('u')).rejects.toBeInstanceOf(RateLimiterRes);
    expect(hanging.calls).toBe(1);

    replies.answeringNow = true;
    await limit.consume('other');
    expect(hanging.calls).toBe(2);
  });

  it("passes Redis's refusal on without charging memory, and falls back on an error", async () => {
    const local = new RateLimiterMemory({ points: 1, duration: 60 });
    const refusing = sharedOrLocal(
      shared(() => Promise.reject(new RateLimiterRes(0, 500))),
      local,
      watch(),
    );
    await expect(refusing.consume('u')).rejects.toMatchObject({ msBeforeNext: 500 });
    expect((await local.get('u'))?.consumedPoints ?? 0).toBe(0);

    const failing = sharedOrLocal(
      shared(() => Promise.reject(new Error('down'))),
      local,
      watch(),
    );
    await expect(failing.consume('u')).resolves.toBeInstanceOf(RateLimiterRes);
    expect((await local.get('u'))?.consumedPoints).toBe(1);
  });
});
