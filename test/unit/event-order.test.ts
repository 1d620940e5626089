import { inArrivalOrder, overtaken, type Arrival } from '../../src/realtime/handlers/event-order';
import type { ChatSocket } from '../../src/realtime/socket-types';

/** A promise the test settles by hand: an event whose database read is still out. */
function pending() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

/**
 * The ordering of one socket's events (event-order.ts). Only the socket's
 * identity is used, as a WeakMap key, so a plain object stands for it here; the
 * handlers that use it are tested with real sockets (typing, join-leave).
 */
describe('event order of one socket', () => {
  it('drops a join that its own later leave overtook, even after many other conversations were joined in between', async () => {
    const socket = {} as ChatSocket;
    const slowRead = pending();
    // join(c1) arrives first and waits on its read…
    const slowJoin = inArrivalOrder(socket, async (arrival) => {
      await slowRead.promise;
      return overtaken(arrival, 'membership:c1', 'join', { sameKindToo: true });
    });
    // …the leave of c1 arrives next and is done at once…
    await inArrivalOrder(socket, (arrival) =>
      Promise.resolve(overtaken(arrival, 'membership:c1', 'leave')),
    );
    // …then forty joins of other conversations complete (a reconnect re-joining).
    for (let i = 0; i < 40; i++) {
      await inArrivalOrder(socket, (arrival) =>
        Promise.resolve(overtaken(arrival, `membership:other-${i}`, 'join', { sameKindToo: true })),
      );
    }
    slowRead.release();

    expect(await slowJoin).toBe(true);
  });

  it('relays two out-of-order events of the same kind, and drops the older of opposite ones', async () => {
    const socket = {} as ChatSocket;
    const reads = [pending(), pending()];
    const outcomes: boolean[] = [];
    const start = (read: ReturnType<typeof pending>) =>
      inArrivalOrder(socket, async (arrival: Arrival) => {
        await read.promise;
        outcomes.push(overtaken(arrival, 'typing:c1', 'start'));
      });
    const first = start(reads[0]);
    const second = start(reads[1]);
    reads[1].release();
    await second;
    reads[0].release();
    await first;
    expect(outcomes).toEqual([false, false]);

    const slowStart = pending();
    const stale = inArrivalOrder(socket, async (arrival) => {
      await slowStart.promise;
      return overtaken(arrival, 'typing:c1', 'start');
    });
    const stop = await inArrivalOrder(socket, (arrival) =>
      Promise.resolve(overtaken(arrival, 'typing:c1', 'stop')),
    );
    slowStart.release();
    expect([stop, await stale]).toEqual([false, true]);
  });
});
