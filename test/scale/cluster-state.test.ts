import { Redis } from 'ioredis';
import { Conversation } from '../../models';
import { withDeadline } from '../../src/lib/deadline';
import { createConversation, createUsers } from '../factories';
import { clusterTestRedis, sendOver, startServiceNode, type ServiceNode } from '../helpers/cluster';
import {
  connectClient,
  connectReconnecting,
  emitAck,
  nextEvent,
  record,
  settle,
  waitFor,
  type ClientSocket,
} from '../helpers/realtime';
import { logMessage, startServiceProcess } from '../helpers/service-process';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { joinHorseTrust, joinKarmyq } from '../helpers/realtime-suite';

/**
 * Per-user state across nodes, and what stays on one node: the socket cap counts
 * every node of the cluster (and only that cluster, by REDIS_KEY_PREFIX), a
 * node's shutdown notice goes to its own sockets only, and a node that may have
 * missed other nodes' cache invalidations forgets what it cached.
 */
const { redisUrl, describeWithRedis } = clusterTestRedis('cluster-state');

const QUIET_MS = 300;
const HANG_BOUND_MS = 8000;
const ONE_SOCKET = { MAX_SOCKETS_PER_USER: '1' };

describeWithRedis('cluster-wide state', () => {
  const nodes: ServiceNode[] = [];
  const sockets: ClientSocket[] = [];
  const start = async (env: Record<string, string>) => {
    const node = await startServiceNode(redisUrl, env);
    nodes.push(node);
    return node;
  };
  const connect = async (node: ServiceNode, token: string) => {
    const socket = await connectClient(node.url, token);
    sockets.push(socket);
    return socket;
  };
  /**
   * A node whose Redis connections run through a proxy the test can cut, stall or
   * filter (`beforeStart` sets it up for the boot); `stop` ends both.
   */
  const nodeBehindRedisProxy = async (
    env: Record<string, string> = {},
    beforeStart?: (proxy: TcpProxy) => void,
  ) => {
    const redis = new URL(redisUrl);
    const proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port) });
    beforeStart?.(proxy);
    const node = await startServiceProcess({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      ...env,
    });
    const stop = async () => {
      proxy.restore();
      await node.stop();
      await proxy.close();
    };
    return { node, proxy, stop };
  };
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  });

  it("counts a user's sockets on every node of its cluster, and on no other cluster", async () => {
    const [nodeA, nodeB, elsewhere] = await Promise.all([
      start(ONE_SOCKET),
      start(ONE_SOCKET),
      start({ ...ONE_SOCKET, REDIS_KEY_PREFIX: 'another-environment' }),
    ]);
    const [user] = await createUsers(1);

    await connect(nodeA, user.token);
    const refused = await connect(nodeB, user.token).then(
      () => null,
      (err: Error & { data?: { code?: string } }) => err,
    );
    const separate = await connect(elsewhere, user.token);

    expect(refused?.message).toMatch(/Too many open connections/);
    expect(refused?.data?.code).toBe('RATE_LIMITED');
    expect(separate.connected).toBe(true);
  }, 60000);

  it("sends a node's shutdown notice to its own sockets only", async () => {
    const [staying, leaving] = await Promise.all([start({}), start({})]);
    const [a, b] = await createUsers(2);
    const onStaying = await connect(staying, a.token);
    const onLeaving = await connect(leaving, b.token);
    const stayingSaw = record(onStaying, 'server_shutdown');
    const leavingSaw = record(onLeaving, 'server_shutdown');

    await leaving.stop();
    await waitFor(() => leavingSaw.length === 1);
    await settle(QUIET_MS);

    expect(leavingSaw).toEqual([{ message: expect.any(String), reconnect: true }]);
    expect(stayingSaw).toEqual([]);
    expect(onStaying.connected).toBe(true);
  }, 60000);

  it('answers a removal at once and admits handshakes while its Redis is unreachable, with nothing unhandled', async () => {
    const { node, proxy, stop } = await nodeBehindRedisProxy();
    try {
      const [a, b, c] = await createUsers(3);
      const conv = await createConversation([a, b, c]);
      proxy.cut();
      // The node has noticed (its links watched): /ready says so.
      for (let tries = 0; (await fetch(`${node.url}/ready`)).status !== 503; tries++) {
        expect(tries).toBeLessThan(100);
        await settle(100);
      }

      const started = Date.now();
      const removal = await fetch(
        `${node.url}/api/chat/conversations/${conv}/participants/${c.id}`,
        {
          method: 'DELETE',
          headers: { Authorization: `Bearer ${a.token}` },
        },
      );
      const tookMs = Date.now() - started;
      const socket = await connectClient(node.url, b.token);
      sockets.push(socket);
      await settle(QUIET_MS);

      expect(removal.status).toBe(200);
      // Not the 6 s a node waits for others' confirmations when its emit can leave.
      expect(tookMs).toBeLessThan(3000);
      expect(socket.connected).toBe(true);
      expect((await Conversation.findById(conv).lean())?.participants.map(String)).toEqual([
        a.id,
        b.id,
      ]);
      const messages = node.logs.map(logMessage);
      expect(messages).not.toContain('unhandled promise rejection');
      // One warning for the outage, not one per reconnection attempt.
      expect(messages.filter((m) => m === 'redis error').length).toBeLessThanOrEqual(1);
      expect(messages).toContain(
        'a node did not confirm a cache invalidation; its entry expires with the TTL',
      );
    } finally {
      await stop();
    }
  }, 60000);

  it('keeps answering and delivering sends on a node whose Redis hangs with its connections open', async () => {
    const { node, proxy, stop } = await nodeBehindRedisProxy();
    let dropped: ClientSocket | undefined;
    try {
      const [a, b] = await createUsers(2);
      const conv = await createConversation([a, b]);
      const sender = await connectClient(node.url, a.token);
      const recipient = await connectClient(node.url, b.token);
      sockets.push(sender, recipient);
      await joinHorseTrust(recipient, conv);
      const received = record(recipient, 'new_message');

      // A client with a recoverable session: it has received a broadcast (and its offset).
      const reconnecting = await connectReconnecting(node.url, b.token);
      dropped = reconnecting;
      await joinHorseTrust(reconnecting, conv);
      const warm = nextEvent(reconnecting, 'new_message');
      expect((await sendOver(node.url, a.token, conv, 'before')).status).toBe(201);
      await warm;
      await waitFor(() => received.length === 1);
      received.splice(0);

      // Redis stops replying; nothing is closed, so the client sees no failure by itself.
      proxy.stall({ alsoNew: true });
      // A bound on hanging, not a latency target (each Redis command gives up after 1 s).
      const overSocket = await emitAck(
        sender,
        'send_message',
        {
          conversation_id: conv,
          text: 'socket',
        },
        HANG_BOUND_MS,
      );
      const overRest = await sendOver(node.url, a.token, conv, 'rest').timeout(HANG_BOUND_MS);

      expect(overSocket).toMatchObject({ success: true, data: { text: 'socket', seq: 2 } });
      expect(overRest.status).toBe(201);
      await waitFor(() => received.length === 2, HANG_BOUND_MS);
      expect(received).toMatchObject([{ text: 'socket' }, { text: 'rest' }]);

      // A client whose connection drops during the hang gets back in (afresh: its session
      // could not be read), instead of waiting out the connect timeout at every retry.
      const back = new Promise<void>((resolve) => reconnecting.once('connect', () => resolve()));
      reconnecting.io.engine.close();
      await withDeadline(back, HANG_BOUND_MS);
      expect(reconnecting.connected).toBe(true);
      expect(reconnecting.recovered).toBe(false);
      expect(node.logs.map(logMessage)).not.toContain('unhandled promise rejection');
    } finally {
      dropped?.close();
      await stop();
    }
  }, 60000);

  it('hears the other nodes once Redis lets its adapter connect, when only its main connection got through at boot', async () => {
    // The main connection gets through; the adapter's own two (the stream reader, the
    // Pub/Sub subscriber) are refused until restore().
    const {
      node: late,
      proxy,
      stop,
    } = await nodeBehindRedisProxy(ONE_SOCKET, (redisProxy) => redisProxy.refuseNewAfter(1));
    try {
      const other = await start(ONE_SOCKET);
      await waitFor(() => proxy.accepted >= 3, 10000);
      proxy.restore();
      for (let tries = 0; (await fetch(`${late.url}/ready`)).status !== 200; tries++) {
        expect(tries).toBeLessThan(100);
        await settle(100);
      }
      const [a, b] = await createUsers(2);
      const conv = await createConversation([a, b]);
      const listener = await connectClient(late.url, a.token);
      sockets.push(listener);
      await joinHorseTrust(listener, conv);
      const received = record(listener, 'new_message');

      // Through the stream: a send on the other node reaches this node's socket.
      expect((await sendOver(other.url, b.token, conv, 'across')).status).toBe(201);
      await waitFor(() => received.length === 1, 5000);
      expect(received[0]).toMatchObject({ conversation_id: conv, text: 'across' });
      // Through Pub/Sub: this node answers the other's socket count (else it fails open).
      const refused = await connect(other, a.token).then(
        () => null,
        (err: Error) => err,
      );
      expect(refused?.message).toMatch(/Too many open connections/);
      expect(late.logs.map(logMessage)).not.toContain('unhandled promise rejection');
    } finally {
      await stop();
    }
  }, 60000);

  it('forgets its cached conversations when its Pub/Sub subscriber (not only its main connection) reconnects', async () => {
    const node = await start({ PARTICIPATION_CACHE_TTL_MS: '600000' });
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sendAsB = (text: string) => sendOver(node.url, b.token, conv, text);
    await sendAsB('cached now').expect(201);
    // A change whose invalidation this node never hears (as when it is published
    // while the node's subscriber is away): the cached entry still lets B send.
    await Conversation.updateOne({ _id: conv }, { $pull: { participants: b.id } });
    await sendAsB('stale cache').expect(201);

    const admin = new Redis(redisUrl);
    try {
      const subscriber = await subscriberOf(admin, node.process.pid!);
      await admin.call('CLIENT', 'KILL', 'ID', subscriber);
      // Back once a new Pub/Sub connection of that process shows (ioredis reconnects).
      for (let tries = 0; ; tries++) {
        const now = await subscriberOf(admin, node.process.pid!).catch(() => subscriber);
        if (now !== subscriber) break;
        if (tries > 500) throw new Error('the subscriber did not reconnect');
        await settle(20);
      }
    } finally {
      admin.disconnect();
    }

    expect((await sendAsB('after the subscriber reconnected')).status).toBe(404);
    // And the cache is trusted again once the node hears the others: a send caches
    // the conversation, and a change it is not told of goes unseen as before.
    await Conversation.updateOne({ _id: conv }, { $addToSet: { participants: b.id } });
    await sendAsB('member again').expect(201);
    await Conversation.updateOne({ _id: conv }, { $pull: { participants: b.id } });
    await sendAsB('cached again').expect(201);
  }, 60000);
});

describeWithRedis('room audit (cluster mode)', () => {
  let node: ServiceNode;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    node = await startServiceNode(redisUrl, { ROOM_AUDIT_INTERVAL_MS: '200' });
  }, 60000);
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(() => node?.stop());

  it('evicts a socket whose user left a conversation without the leave reaching this node', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const [sa, sb] = await Promise.all([
      connectClient(node.url, a.token),
      connectClient(node.url, b.token),
    ]);
    sockets.push(sa, sb);
    await Promise.all([joinHorseTrust(sa, conv), joinKarmyq(sb, conv, b.id)]);
    const bRemoved = record(sb, 'removed_from_conversation');
    const aRemoved = record(sa, 'removed_from_conversation');
    const bMessages = record(sb, 'new_message');
    const aMessages = record(sa, 'new_message');
    // As when the node that removed B could not publish the leave (its Redis down).
    await Conversation.updateOne({ _id: conv }, { $pull: { participants: b.id } });

    await waitFor(() => bRemoved.length === 1, 5000);
    await sendOver(node.url, a.token, conv, 'only for members').expect(201);
    await waitFor(() => aMessages.length === 1, 5000);
    await settle(QUIET_MS);

    expect(bRemoved).toEqual([{ conversation_id: conv }]);
    expect(bMessages).toEqual([]);
    expect(aRemoved).toEqual([]);
    expect(aMessages).toEqual([expect.objectContaining({ text: 'only for members' })]);
  });
});

/** The id of a service process's Pub/Sub connection, found by its connection name. */
async function subscriberOf(admin: Redis, pid: number): Promise<string> {
  const clients = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n');
  const line = clients.find((c) => c.includes(`:${pid}:adapter-`));
  const id = line && /\bid=(\d+)/.exec(line)?.[1];
  if (!id) throw new Error(`no Pub/Sub connection of process ${pid}`);
  return id;
}
