import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { CONNECTION_LIMITS, type RunningServer } from '../../src/server';
import { MAX_PENDING_HANDSHAKES } from '../../src/realtime';
import { userRoom } from '../../src/realtime/rooms';
import { createUsers } from '../factories';
import { connectClient, waitFor, type ClientSocket } from '../helpers/realtime';
import { startTestServer } from '../helpers/realtime';

/**
 * Clients that hold the server's resources without using them: one that stops
 * reading while the server writes to it, and anonymous connections that never
 * authenticate.
 */
describe('slow and idle clients', () => {
  let server: RunningServer;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(() => sockets.splice(0).forEach((socket) => socket.close()));
  afterAll(async () => {
    await server.stop();
  });

  it('drops a connection whose client stopped reading, and keeps one that reads the same stream', async () => {
    const [stuckUser, readingUser] = await createUsers(2);
    const stuck = await connectClient(server.url, stuckUser.token);
    const reading = await connectClient(server.url, readingUser.token);
    sockets.push(stuck, reading);
    let read = 0;
    reading.on('message_notification', () => (read += 1));
    // The client's TCP socket stops reading: the server's writes pile up behind it.
    const transport = stuck.io.engine.transport as unknown as {
      ws: { _socket: { pause(): void } };
    };
    transport.ws._socket.pause();
    const stuckId = stuck.id!;

    // ~16 MB each, in slices, so that the reading client keeps up.
    const preview = 'x'.repeat(20_000);
    for (let slice = 0; slice < 40; slice++) {
      for (let i = 0; i < 20; i++) {
        server.realtime.io
          .to([userRoom(stuckUser.id), userRoom(readingUser.id)])
          .emit('message_notification', {
            conversation_id: 'c',
            sender: stuckUser.id,
            message_id: `m${slice * 20 + i}`,
            preview,
            seq: slice * 20 + i,
          });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    await waitFor(() => !server.realtime.io.of('/').sockets.has(stuckId), 10_000);
    await waitFor(() => read === 800, 10_000);
    expect(reading.connected).toBe(true);
    expect(server.realtime.io.of('/').sockets.has(reading.id!)).toBe(true);
  }, 30_000);

  it('closes connections that send nothing, or never finish their headers, after the headers timeout', async () => {
    const port = Number(new URL(server.url).port);
    const open = (firstBytes: string) =>
      new Promise<{ closedAfterMs: Promise<number> }>((resolve, reject) => {
        const connection = net.connect(port, '127.0.0.1', () => {
          if (firstBytes) connection.write(firstBytes);
          const openedAt = Date.now();
          resolve({
            closedAfterMs: new Promise((closed) =>
              connection.once('close', () => closed(Date.now() - openedAt)),
            ),
          });
        });
        connection.on('error', () => undefined);
        // Read what the server says (its 408), or the close would never surface here.
        connection.resume();
        connection.once('error', reject);
      });
    const silent = await open('');
    const dribbling = await open('GET /health HTTP/1.1\r\nHost: x\r\n');

    const bound =
      CONNECTION_LIMITS.headersTimeout + 2 * CONNECTION_LIMITS.connectionsCheckingInterval;
    for (const connection of [silent, dribbling]) {
      const ms = await connection.closedAfterMs;
      // Not Node's 60 s (75-78 s measured): closed within the timeout plus its check interval.
      expect(ms).toBeLessThan(bound);
    }
  }, 30_000);

  it('closes a connection whose client left the namespace but kept the connection open', async () => {
    const [user] = await createUsers(1);
    // Raw engine.io over a WebSocket: CONNECT to '/', then DISCONNECT from it while
    // keeping the connection (and answering pings), as a client bent on holding them would.
    const raw = new WebSocket(
      `${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`,
    );
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    raw.on('message', (data: Buffer) => {
      const packet = data.toString();
      if (packet.startsWith('0')) raw.send(`40${JSON.stringify({ token: user.token })}`);
      else if (packet.startsWith('40')) raw.send('41');
      else if (packet === '2') raw.send('3');
    });
    try {
      await closed;
      expect(raw.readyState).toBe(WebSocket.CLOSED);
    } finally {
      raw.terminate();
    }
  }, 15_000);

  it('refuses new handshakes while too many connections have not authenticated yet', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const handshake = () =>
      new Promise<number>((resolve, reject) => {
        http
          .get(`${server.url}/socket.io/?EIO=4&transport=polling`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
    try {
      const statuses = await Promise.all(
        Array.from({ length: MAX_PENDING_HANDSHAKES + 20 }, handshake),
      );
      expect(statuses.filter((status) => status === 200)).toHaveLength(MAX_PENDING_HANDSHAKES);
      expect(statuses.filter((status) => status !== 200)).toHaveLength(20);
      // Nor does an authenticated client get in meanwhile: the bound is for everyone.
      const [user] = await createUsers(1);
      await expect(connectClient(server.url, user.token)).rejects.toThrow();
    } finally {
      agent.destroy();
    }
  }, 60_000);
});
