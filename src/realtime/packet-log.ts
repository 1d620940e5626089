import { Buffer } from 'node:buffer';

/**
 * The broadcasts kept for connection state recovery, outside the JavaScript heap.
 *
 * Why not JS objects or strings: every stored packet lives for the whole
 * recovery window, so each one was copied by two young-generation collections,
 * promoted, and then marked and compacted by every old-generation collection
 * until it expired. At 200 msg/s that was ~80 % of what the process kept
 * alive from one second to the next, and the collections it caused were what
 * made send → deliver p99 miss its target (README, benchmark 1). Here a packet
 * is encoded once into a reused 1 MB chunk; per packet, the heap holds one
 * small integer (its byte offset).
 *
 * A record: u16 length of the room list, u32 length of the JSON, the room list,
 * the JSON. The room list is a sequence of (u8 kind, u16 length, UTF-8 name),
 * kind 0 for a room the packet was sent to and 1 for an excluded room, so that
 * matching a recovering socket's rooms compares bytes without decoding.
 * Packets are numbered by `seq` (0, 1, 2…) in the order they were appended.
 */
const HEADER_BYTES = 6;
const ROOM_ENTRY_BYTES = 3;
const TO_ROOM = 0;
const EXCEPT_ROOM = 1;
const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Emptied chunks kept for reuse, so that a steady load allocates no new memory. */
const SPARE_CHUNKS = 4;

interface Chunk {
  buf: Buffer;
  used: number;
  firstSeq: number;
  /** Byte offset of each record, by seq − firstSeq. */
  starts: number[];
  /** When the newest record in it was appended (ms): the chunk expires with it. */
  newestAt: number;
}

/** A room name as the bytes a record holds. */
export type EncodedRoom = Buffer;

export function encodeRooms(rooms: Iterable<string>): EncodedRoom[] {
  return [...rooms].map((room) => Buffer.from(room, 'utf8'));
}

export class PacketLog {
  private chunks: Chunk[] = [];
  private readonly spare: Buffer[] = [];
  private nextSeq = 0;

  constructor(private readonly chunkBytes = DEFAULT_CHUNK_BYTES) {}

  /**
   * Stores a packet sent to `rooms` (none: everyone) except `except`; returns its
   * seq. Throws a RangeError for a room name longer than 65,535 bytes.
   */
  append(rooms: Iterable<string>, except: Iterable<string>, json: string, at: number): number {
    const roomList = [
      ...[...rooms].map((name) => [TO_ROOM, name] as const),
      ...[...except].map((name) => [EXCEPT_ROOM, name] as const),
    ];
    let roomBytes = 0;
    for (const [, name] of roomList) {
      const length = Buffer.byteLength(name);
      if (length > 0xffff) throw new RangeError('room name too long to store for recovery');
      roomBytes += ROOM_ENTRY_BYTES + length;
    }
    if (roomBytes > 0xffff) throw new RangeError('too many rooms to store for recovery');
    const jsonBytes = Buffer.byteLength(json);
    const size = HEADER_BYTES + roomBytes + jsonBytes;
    const chunk = this.chunkWithRoom(size);
    const { buf } = chunk;
    let offset = chunk.used;
    buf.writeUInt16LE(roomBytes, offset);
    buf.writeUInt32LE(jsonBytes, offset + 2);
    offset += HEADER_BYTES;
    for (const [kind, name] of roomList) {
      const length = buf.write(name, offset + ROOM_ENTRY_BYTES, 'utf8');
      buf.writeUInt8(kind, offset);
      buf.writeUInt16LE(length, offset + 1);
      offset += ROOM_ENTRY_BYTES + length;
    }
    buf.write(json, offset, 'utf8');
    chunk.starts.push(chunk.used);
    chunk.used += size;
    chunk.newestAt = at;
    return this.nextSeq++;
  }

  /** The seq the next appended packet gets. */
  get nextSeqToAppend(): number {
    return this.nextSeq;
  }

  /** Whether packet `seq` is still held. */
  holds(seq: number): boolean {
    const first = this.chunks[0]?.firstSeq ?? this.nextSeq;
    return Number.isSafeInteger(seq) && seq >= first && seq < this.nextSeq;
  }

  /**
   * The JSON of every held packet after `seq` that reaches a socket in `rooms`
   * (Socket.IO's rule: sent to everyone or to one of its rooms, and none of its
   * rooms excluded). `seq` must be held.
   */
  jsonAfter(seq: number, rooms: EncodedRoom[]): string[] {
    const found: string[] = [];
    for (const chunk of this.chunks) {
      const from = Math.max(0, seq + 1 - chunk.firstSeq);
      for (let i = from; i < chunk.starts.length; i++) {
        const start = chunk.starts[i];
        const roomBytes = chunk.buf.readUInt16LE(start);
        const jsonBytes = chunk.buf.readUInt32LE(start + 2);
        const roomsAt = start + HEADER_BYTES;
        if (!reaches(chunk.buf, roomsAt, roomsAt + roomBytes, rooms)) continue;
        const jsonAt = roomsAt + roomBytes;
        found.push(chunk.buf.toString('utf8', jsonAt, jsonAt + jsonBytes));
      }
    }
    return found;
  }

  /** Drops every chunk whose newest packet was appended before `threshold` (ms). */
  dropOlderThan(threshold: number): void {
    while (this.chunks.length > 0 && this.chunks[0].newestAt < threshold) {
      const [expired] = this.chunks.splice(0, 1);
      if (expired.buf.length === this.chunkBytes && this.spare.length < SPARE_CHUNKS) {
        this.spare.push(expired.buf);
      }
    }
  }

  /** Bytes of packet data held (for tests). */
  get heldBytes(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.used, 0);
  }

  private chunkWithRoom(size: number): Chunk {
    const last = this.chunks.at(-1);
    if (last && last.used + size <= last.buf.length) return last;
    // A packet larger than a chunk gets a chunk of its own size (never reused).
    const buf =
      size > this.chunkBytes
        ? Buffer.allocUnsafeSlow(size)
        : (this.spare.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes));
    const chunk: Chunk = { buf, used: 0, firstSeq: this.nextSeq, starts: [], newestAt: 0 };
    this.chunks.push(chunk);
    return chunk;
  }
}

/** Socket.IO's addressing rule, on a record's encoded room list. */
function reaches(buf: Buffer, from: number, to: number, rooms: EncodedRoom[]): boolean {
  let addressed = false;
  let included = false;
  for (let at = from; at < to;) {
    const kind = buf.readUInt8(at);
    const length = buf.readUInt16LE(at + 1);
    const nameAt = at + ROOM_ENTRY_BYTES;
    at = nameAt + length;
    if (kind === TO_ROOM) addressed = true;
    const isSocketRoom = rooms.some(
      (room) => room.length === length && room.compare(buf, nameAt, nameAt + length) === 0,
    );
    if (!isSocketRoom) continue;
    if (kind === EXCEPT_ROOM) return false;
    included = true;
  }
  return included || !addressed;
}
