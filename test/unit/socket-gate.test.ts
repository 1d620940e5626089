import { SocketGate } from '../../src/realtime/socket-gate';
import type { ChatSocket } from '../../src/realtime/socket-types';

/** The gate only keys its state by socket: any object stands for one here. */
const aSocket = () => ({}) as ChatSocket;

describe('SocketGate', () => {
  it('admits up to the running bound at once, lines up the next, refuses beyond', () => {
    const gate = new SocketGate(2, 1);
    const socket = aSocket();
    expect(gate.enter(socket)).toBe('now');
    expect(gate.enter(socket)).toBe('now');
    expect(gate.enter(socket)).toBeInstanceOf(Promise);
    expect(gate.enter(socket)).toBe('refused');
    // Another socket has slots of its own.
    expect(gate.enter(aSocket())).toBe('now');
  });

  it('hands a freed slot to the first in line, so a newcomer cannot jump the line', async () => {
    const gate = new SocketGate(1, 2);
    const socket = aSocket();
    const order: string[] = [];
    expect(gate.enter(socket)).toBe('now');
    const first = gate.enter(socket) as Promise<void>;
    const second = gate.enter(socket) as Promise<void>;
    void first.then(() => order.push('first'));
    void second.then(() => order.push('second'));

    gate.release(socket);
    // The slot went to `first`: a newcomer waits (the line has room for one more).
    expect(gate.enter(socket)).toBeInstanceOf(Promise);
    await first;
    expect(order).toEqual(['first']);
    gate.release(socket);
    await second;
    expect(order).toEqual(['first', 'second']);
  });

  it('keeps no state for a socket with nothing in flight', () => {
    const gate = new SocketGate(1, 0);
    const socket = aSocket();
    expect(gate.enter(socket)).toBe('now');
    expect(gate.enter(socket)).toBe('refused');
    gate.release(socket);
    // Released to zero: the socket starts afresh with its full bound.
    expect(gate.enter(socket)).toBe('now');
    gate.release(socket);
    gate.release(socket); // one release too many is harmless
    expect(gate.enter(socket)).toBe('now');
    expect(gate.enter(socket)).toBe('refused');
  });
});
