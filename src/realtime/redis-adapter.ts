import os from 'node:os';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { DeadlineExceeded, withDeadline } from '../lib/deadline';
import { ReplyWatch } from '../lib/reply-watch';
import type { Logger } from '../lib/logger';

/**
 * Scale-out over Redis with the Redis Streams adapter. Chosen over the Pub/Sub
 * `@socket.io/redis-adapter` because (1) it supports connection state recovery
 * (sessions live in Redis, so a socket can recover on another node) and (2) a
 * node that loses Redis briefly resumes the stream without losing packets,
 * where Pub/Sub drops whatever was published meanwhile.
 */
export interface ScaleOut {
  adapter: ReturnType<typeof createAdapter>;
  redis: Redis;
  ping(): Promise<boolean>;
  /**
   * False while any of this node's Redis connections is down: ours, or one the
   * adapter opened (its stream reader, its Pub/Sub subscriber). Messages from
   * other nodes may be missed meanwhile.
   */
  connected(): boolean;
  /**
   * Whether this node's main connection is ready: what it publishes (broadcasts,
   * server-side emits) and the adapter's count of nodes go over that one alone.
   */
  canPublish(): boolean;
  /** Whether Redis answers commands (see ReplyWatch): the rate limits consult it too. */
  replies: ReplyWatch;
  /** Called whenever one of those connections closes or becomes ready again. */
  onLinkChange(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * How long the stream write of a broadcast may take. The adapter delivers a
 * broadcast to this node's own sockets once that write has landed or failed,
 * and a Redis that hangs with its connections open never answers: REST and
 * socket sends through a proxy holding Redis's replies were still undelivered
 * and unanswered after 20 s. Only this write gets a deadline: other commands
 * may rightly take long (a recovering socket's XRANGE over 50,000 entries took
 * 383 ms) or are not on a client's path. A write past its deadline may still
 * land, and then reaches the other nodes late; this node ignores its own.
 */
const STREAM_WRITE_DEADLINE_MS = 1000;

export async function connectScaleOut(
  url: string,
  options: { streamMaxLen: number; keyPrefix: string },
  logger: Logger,
): Promise<ScaleOut> {
  // Named so that CLIENT LIST tells the nodes and their connections apart.
  const nodeName = `${options.keyPrefix}:${os.hostname()}:${process.pid}`;
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    connectionName: `${nodeName}:main`,
  });
  // One warning per outage: the client fails again at every reconnection attempt
  // (a probe counted 212 warnings in one outage), and the loss itself is logged once.
  let errorLogged = false;
  redis.on('error', (err: Error) => {
    if (errorLogged) return logger.debug({ err: { message: err.message } }, 'redis error');
    errorLogged = true;
    logger.warn({ err: { message: err.message } }, 'redis error');
  });
  redis.on('ready', () => (errorLogged = false));
  await redis.connect();
  const links = watchLinks(redis, nodeName, logger);
  const replies = new ReplyWatch(redis, logger);
  boundStreamWrites(redis, replies);
  const adapter = createAdapter(redis, {
    // Every name the adapter uses in Redis, its Pub/Sub channels included (they
    // span all Redis databases): another environment on the same Redis would
    // otherwise count as nodes of this cluster and receive its traffic.
    streamName: `${options.keyPrefix}:socket.io`,
    sessionKeyPrefix: `${options.keyPrefix}:sio:session:`,
    channelPrefix: `${options.keyPrefix}:socket.io`,
    // Bounds Redis memory; also how far back a recovering socket can catch up.
    maxLen: options.streamMaxLen,
    // Our payloads are JSON: skip the per-packet binary scan.
    onlyPlaintext: true,
  });
  return {
    adapter,
    redis,
    async ping() {
      try {
        return (await withDeadline(redis.ping(), 1000)) === 'PONG';
      } catch {
        return false;
      }
    },
    connected: links.allUsable,
    canPublish: () => redis.status === 'ready',
    replies,
    onLinkChange: (listener) => links.onChange(listener),
    async close() {
      // The copies too: one that never became ready is left reconnecting by the
      // adapter (its disconnect waits for the copy's first connect).
      links.disconnectAll();
    },
  };
}

/**
 * The adapter connects each copy once (`connect()`, ours being lazy) and only
 * then starts reading the stream or subscribes; a failed connect is an unhandled
 * rejection and it never tries again, although ioredis goes on reconnecting the
 * copy. So a node booting while Redis blinked stayed deaf to the other nodes
 * for good, and looked ready (cluster-state.test.ts). Here the first connect
 * answers once the copy is ready, after however many attempts, and a
 * subscription that fails (its connection lost, retries exhausted) is made
 * again on the next ready connection (ioredis re-subscribes only what had been
 * confirmed).
 */
function persistUntilReady(copy: Redis, onSubscribeFailed: (err: Error) => void): void {
  const connect = copy.connect.bind(copy);
  // Only the adapter's own first call: ioredis's reconnections call connect too.
  copy.connect = () => {
    copy.connect = connect;
    return connect().catch(
      () => new Promise<void>((resolve) => copy.once('ready', () => resolve())),
    );
  };
  const subscribe = copy.subscribe.bind(copy) as (...channels: unknown[]) => Promise<unknown>;
  const subscribeUntilDone = (...channels: unknown[]): Promise<unknown> => {
    const attempt = subscribe(...channels);
    attempt.catch((err: Error) => {
      onSubscribeFailed(err);
      // Before the link watch's PING (watchLinks), so that the link counts as usable
      // only once this subscription is back too.
      copy.prependOnceListener('ready', () => void subscribeUntilDone(...channels));
    });
    return attempt;
  };
  copy.subscribe = subscribeUntilDone as Redis['subscribe'];
}

/**
 * The adapter sends server-side emits with PUBLISH and drops the promise: a
 * publish failing as the connection goes (between the canPublish check and the
 * write) was an unhandled rejection. Marked handled here; whoever awaits the
 * publish still gets its failure.
 */
function markPublishesHandled(redis: Redis): void {
  const publish = redis.publish.bind(redis) as (...args: unknown[]) => Promise<number>;
  redis.publish = ((...args: unknown[]) => {
    const sent = publish(...args);
    sent.catch(() => undefined);
    return sent;
  }) as Redis['publish'];
}

/**
 * Gives the adapter's stream writes (XADD, on the main connection) their
 * deadline. They are always sent, never skipped: a write past its deadline still
 * lands when Redis answers, in order, so the other nodes get it late rather than
 * never (skipping them on a missed deadline lost broadcasts, a removal's leave
 * among them, whenever a healthy Redis or this event loop paused for 300 ms).
 * A miss tells the rate limits to stop asking Redis until it answers again.
 */
function boundStreamWrites(redis: Redis, replies: ReplyWatch): void {
  const xadd = redis.xadd.bind(redis) as (...args: unknown[]) => Promise<string | null>;
  redis.xadd = ((...args: unknown[]) =>
    withDeadline(xadd(...args), STREAM_WRITE_DEADLINE_MS).catch((err: unknown) => {
      if (err instanceof DeadlineExceeded) replies.missed();
      throw err;
    })) as Redis['xadd'];
}

/**
 * The adapter opens its own connections as copies of ours (`duplicate()`): the
 * stream reader and the Pub/Sub subscriber that carries server-side emits, the
 * cache invalidations among them. Losing only the subscriber loses whatever was
 * published meanwhile, so every copy is watched like the main connection.
 */
function watchLinks(redis: Redis, nodeName: string, logger: Logger) {
  const usable = new Map<Redis, boolean>();
  const listeners: Array<() => void> = [];
  const notify = () => listeners.forEach((listener) => listener());
  const watch = (link: Redis, role: string) => {
    usable.set(link, link.status === 'ready');
    link.on('close', () => {
      // Logged once per loss, not at every failed reconnection attempt.
      if (usable.get(link)) logger.warn({ redis: role }, 'redis connection lost');
      usable.set(link, false);
      notify();
    });
    link.on('ready', () => {
      // ioredis re-subscribes just after 'ready'; a PING queued behind those
      // commands answers once the subscriptions are back, and only from then
      // on can this node trust that it hears other nodes again.
      const settled = () => {
        usable.set(link, link.status === 'ready');
        notify();
      };
      link.ping().then(settled, settled);
    });
  };
  watch(redis, 'main');
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) => {
    const role = `adapter-${usable.size}`;
    const copy = duplicate({ connectionName: `${nodeName}:${role}`, ...override });
    watch(copy, role);
    persistUntilReady(copy, (err) =>
      logger.warn(
        { err: { message: err.message }, redis: role },
        'redis subscribe failed; retrying',
      ),
    );
    return copy;
  };
  markPublishesHandled(redis);
  return {
    allUsable: () => [...usable.values()].every(Boolean),
    onChange: (listener: () => void) => void listeners.push(listener),
    disconnectAll: () => usable.forEach((_, link) => link.disconnect()),
  };
}
