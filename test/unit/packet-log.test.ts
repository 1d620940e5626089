import fc from 'fast-check';
import { encodeRooms, PacketLog } from '../../src/realtime/packet-log';

/** What the log must agree with: Socket.IO's addressing rule over plain arrays. */
interface PlainPacket {
  rooms: string[];
  except: string[];
  json: string;
}
function reachesPlain(packet: PlainPacket, socketRooms: string[]): boolean {
  const included =
    packet.rooms.length === 0 || socketRooms.some((room) => packet.rooms.includes(room));
  return included && !socketRooms.some((room) => packet.except.includes(room));
}

const json = (n: number, text = 'hello') => JSON.stringify(['new_message', { n, text }]);

describe('PacketLog (connection-state-recovery storage outside the heap)', () => {
  it('returns, in order, the packets after a seq that reach a socket, by room and exclusion', () => {
    const log = new PacketLog();
    const s0 = log.append(['conversation:a'], [], json(0), 1);
    log.append(['conversation:b'], [], json(1), 2);
    log.append(['user:u1'], [], json(2), 3);
    log.append([], [], json(3), 4); // to everyone
    log.append(['conversation:a'], ['user:u1'], json(4), 5); // the sender's own sockets excluded
    log.append(['conversation:a', 'user:u2'], [], json(5), 6);

    const u1 = encodeRooms(['sid-1', 'user:u1', 'conversation:a']);
    expect(log.jsonAfter(s0, u1)).toEqual([json(2), json(3), json(5)]);
    const u2 = encodeRooms(['sid-2', 'user:u2', 'conversation:a']);
    expect(log.jsonAfter(s0, u2)).toEqual([json(3), json(4), json(5)]);
    const outsider = encodeRooms(['sid-3', 'user:u3']);
    expect(log.jsonAfter(s0, outsider)).toEqual([json(3)]);
  });

  it('knows which seqs it holds', () => {
    const log = new PacketLog();
    expect(log.holds(0)).toBe(false);
    const first = log.append(['r'], [], json(0), 1);
    const second = log.append(['r'], [], json(1), 2);
    expect([first, second]).toEqual([0, 1]);
    expect(log.holds(0)).toBe(true);
    expect(log.holds(1)).toBe(true);
    expect(log.holds(2)).toBe(false);
    expect(log.holds(-1)).toBe(false);
    expect(log.holds(0.5)).toBe(false);
    expect(log.holds(Number.MAX_SAFE_INTEGER + 2)).toBe(false);
  });

  it('spreads packets over chunks, drops whole chunks once their newest packet expires, and reuses them', () => {
    const log = new PacketLog(256);
    const rooms = encodeRooms(['r']);
    for (let i = 0; i < 40; i++) log.append(['r'], [], json(i), 1000 + i);
    expect(log.jsonAfter(0, rooms)).toEqual(Array.from({ length: 39 }, (_, i) => json(i + 1)));

    log.dropOlderThan(1020);
    // Chunks whose newest packet is older than 1020 are gone; none newer than that is lost.
    const heldFrom = Array.from({ length: 40 }, (_, i) => i).find((seq) => log.holds(seq)) ?? -1;
    expect(heldFrom).toBeGreaterThan(0);
    expect(heldFrom).toBeLessThanOrEqual(20);
    expect(log.jsonAfter(heldFrom, rooms)).toEqual(
      Array.from({ length: 39 - heldFrom }, (_, i) => json(heldFrom + 1 + i)),
    );

    // Appending into recycled chunks must not mix old bytes into new packets.
    for (let i = 40; i < 80; i++) log.append(['r'], [], json(i, 'again'), 2000 + i);
    log.dropOlderThan(2040);
    const from = Array.from({ length: 80 }, (_, i) => i).find((seq) => log.holds(seq)) ?? -1;
    expect(from).toBeGreaterThanOrEqual(40);
    expect(log.jsonAfter(from, rooms)).toEqual(
      Array.from({ length: 79 - from }, (_, i) => json(from + 1 + i, 'again')),
    );

    log.dropOlderThan(10_000);
    expect(log.holds(79)).toBe(false);
    expect(log.heldBytes).toBe(0);
    expect(log.append(['r'], [], json(80), 10_001)).toBe(80);
    expect(log.holds(80)).toBe(true);
  });

  it('keeps a packet larger than a chunk, and multi-byte room names and text intact', () => {
    const log = new PacketLog(128);
    const big = json(1, 'ж🐎'.repeat(200));
    const start = log.append(['conversation:é'], [], json(0), 1);
    log.append(['conversation:é'], [], big, 2);
    log.append(['conversation:e'], [], json(2), 3); // differs from é only in its bytes
    expect(log.jsonAfter(start, encodeRooms(['conversation:é']))).toEqual([big]);
  });

  it('refuses a room name it cannot encode, storing nothing', () => {
    const log = new PacketLog();
    expect(() => log.append(['x'.repeat(70_000)], [], json(0), 1)).toThrow(RangeError);
    expect(log.nextSeqToAppend).toBe(0);
    expect(log.heldBytes).toBe(0);
  });

  it('agrees with the plain addressing rule on any mix of packets and sockets', () => {
    const room = fc.constantFrom('user:a', 'user:b', 'conversation:1', 'conversation:2', 'sid');
    const packet = fc.record({
      rooms: fc.uniqueArray(room, { maxLength: 3 }),
      except: fc.uniqueArray(room, { maxLength: 2 }),
      json: fc.string({ maxLength: 40 }).map((text) => JSON.stringify([text])),
    });
    fc.assert(
      fc.property(
        fc.array(packet, { minLength: 1, maxLength: 60 }),
        fc.uniqueArray(room, { maxLength: 4 }),
        fc.nat(),
        fc.integer({ min: 64, max: 512 }),
        (packets: PlainPacket[], socketRooms, after, chunkBytes) => {
          const log = new PacketLog(chunkBytes);
          packets.forEach((p, i) => log.append(p.rooms, p.except, p.json, i));
          const seq = after % packets.length;
          const expected = packets
            .slice(seq + 1)
            .filter((p) => reachesPlain(p, socketRooms))
            .map((p) => p.json);
          expect(log.jsonAfter(seq, encodeRooms(socketRooms))).toEqual(expected);
        },
      ),
    );
  });
});
