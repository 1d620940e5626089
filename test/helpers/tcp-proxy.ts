import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of the test database, to simulate the database
 * server going away and coming back. `cut()` destroys every open connection and
 * closes new ones as soon as they are accepted, which is what a client sees when
 * the server process dies; `restore()` forwards again.
 *
 * Why a proxy rather than stopping the server: the harness's database may be the
 * in-memory mongo-java-server emulator, and restarting it would lose every
 * document, so "the acknowledged messages are still there" could not be checked.
 * Cutting the network in between keeps the data, like a restarted real mongod.
 */
export interface TcpProxy {
  port: number;
  /** The database is gone: drop every connection, refuse new ones. */
  cut(): void;
  /**
   * The database stops answering without closing anything (hung, or partitioned
   * without a reset): what the service writes still reaches it, but its replies
   * are held. `alsoNew`: connections opened from now on are held too; otherwise
   * only those open now (one hung connection, the server itself fine).
   */
  stall(options?: { alsoNew?: boolean }): void;
  /**
   * One lost reply: the next command whose bytes contain `marker` reaches the
   * database, but its connection's replies are held from then on (until restore).
   */
  holdReplyTo(marker: Buffer): void;
  /**
   * One lost command: the next one whose bytes contain `marker` never reaches the
   * database (its client waits for a reply that cannot come).
   */
  dropCommand(marker: Buffer): void;
  /**
   * Connections beyond the first `count` accepted since start are closed as soon
   * as they are accepted (until restore); those open stay. A server that lets a
   * client's first connection in and refuses the next ones.
   */
  refuseNewAfter(count: number): void;
  /** The database is back: accept and forward again (held replies are delivered). */
  restore(): void;
  readonly isCut: boolean;
  /** Connections accepted since start, forwarded or refused (to check a client retried). */
  readonly accepted: number;
  close(): Promise<void>;
}

export interface TcpTarget {
  host: string;
  port: number;
}

export async function startTcpProxy(target: TcpTarget): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let isCut = false;
  let accepted = 0;
  let acceptLimit = Infinity;

  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  let stallNew = false;
  let replyMarker: Buffer | null = null;
  let dropMarker: Buffer | null = null;
  /** Per open connection, its held replies while stalled (null: forwarding). */
  const held = new Map<net.Socket, Buffer[] | null>();
  const release = (client: net.Socket) => {
    const chunks = held.get(client);
    held.set(client, null);
    chunks?.forEach((chunk) => client.write(chunk));
  };

  const server = net.createServer((client) => {
    accepted += 1;
    if (isCut || accepted > acceptLimit) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    held.set(client, stallNew ? [] : null);
    client.once('close', () => held.delete(client));
    // Either side failing or closing takes the other down, like one TCP connection would.
    const teardown = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown).on('close', teardown);
    upstream.on('error', teardown).on('close', teardown);
    client.on('data', (chunk: Buffer) => {
      if (dropMarker && chunk.includes(dropMarker)) {
        dropMarker = null;
        return;
      }
      if (replyMarker && chunk.includes(replyMarker)) {
        replyMarker = null;
        held.set(client, held.get(client) ?? []);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      const chunks = held.get(client);
      if (chunks) chunks.push(chunk);
      else client.write(chunk);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const dropAll = () => open.forEach((socket) => socket.destroy());
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      isCut = true;
      dropAll();
    },
    stall(options = {}) {
      stallNew = options.alsoNew ?? false;
      for (const client of held.keys()) held.set(client, held.get(client) ?? []);
    },
    holdReplyTo(marker) {
      replyMarker = marker;
    },
    dropCommand(marker) {
      dropMarker = marker;
    },
    refuseNewAfter(count) {
      acceptLimit = count;
    },
    restore() {
      isCut = false;
      acceptLimit = Infinity;
      stallNew = false;
      replyMarker = null;
      dropMarker = null;
      [...held.keys()].forEach(release);
    },
    get isCut() {
      return isCut;
    },
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}

/**
 * host:port of the run's database (TEST_MONGODB_URI), plus what a proxied URI must
 * keep (credentials, options). Only single-host `mongodb://` URIs can be proxied.
 */
export function testDatabaseTarget(): TcpTarget & { credentials: string; options: string } {
  const uri = process.env.TEST_MONGODB_URI ?? '';
  const match = /^mongodb:\/\/(?:([^@/]+)@)?([^/?,@]+):(\d+)\/?(?:\?(.*))?$/.exec(uri);
  if (!match) {
    throw new Error(
      `cannot proxy TEST_MONGODB_URI "${uri}": expected mongodb://[user:pass@]host:port[/?options]`,
    );
  }
  return {
    host: match[2],
    port: Number(match[3]),
    credentials: match[1] ? `${match[1]}@` : '',
    options: match[4] ?? '',
  };
}

/**
 * A URI for `dbName` through the proxy. directConnection keeps a replica-set member
 * from advertising its real address, which would let the driver bypass the proxy.
 */
export function proxiedDatabaseUri(proxy: TcpProxy, dbName: string): string {
  const { credentials, options } = testDatabaseTarget();
  const kept = options
    .split('&')
    .filter((option) => option && !/^(replicaSet|directConnection)=/i.test(option));
  const query = [...kept, 'directConnection=true'].join('&');
  return `mongodb://${credentials}127.0.0.1:${proxy.port}/${dbName}?${query}`;
}

/** The bytes that start a BSON command document `{<command>: "<collection>", …}`. */
export function commandMarker(command: string, collection: string): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32LE(Buffer.byteLength(collection) + 1);
  return Buffer.concat([
    Buffer.from([0x02]),
    Buffer.from(`${command}\0`),
    length,
    Buffer.from(`${collection}\0`),
  ]);
}
