import { withDeadline } from '../lib/deadline';
import type { Logger } from '../lib/logger';
import { userRoom } from './rooms';
import type { ChatServer } from './socket-types';

/** How long a handshake waits for the other nodes' counts before using its own. */
const COUNT_TIMEOUT_MS = 1000;

/**
 * How many sockets a user has open, for MAX_SOCKETS_PER_USER. Each node counts
 * its own sockets in the user's room; with several nodes the others are asked
 * for a number (a server-side event), never for their sockets: fetchSockets()
 * would carry every socket's handshake, bearer token and cookies included,
 * through Redis on each connection. A node that does not answer in time (down,
 * busy, Redis away) does not refuse the handshake: the count is then this node's
 * own (fail open, logged), as refusing every connection in the cluster would be
 * worse than a user briefly over the cap.
 */
export function userSocketCounter(
  io: ChatServer,
  clustered: boolean,
  logger: Logger,
  canPublish: () => boolean = () => true,
): (userId: string) => Promise<number> {
  const localCount = (userId: string) => io.of('/').adapter.rooms.get(userRoom(userId))?.size ?? 0;
  if (!clustered) return (userId) => Promise.resolve(localCount(userId));
  io.on('count_user_sockets', (userId, done) => {
    // From another node, through Redis: checked all the same.
    done(typeof userId === 'string' ? localCount(userId) : 0);
  });
  return async (userId) => {
    const local = localCount(userId);
    // Not asked while this node's Redis is away: the question cannot leave (and the
    // adapter's count of nodes would fail inside Socket.IO, unhandled). Not logged
    // per handshake either: the outage itself is (redis-adapter.ts).
    if (!canPublish()) return local;
    try {
      const others: unknown[] = await withDeadline(
        io.serverSideEmitWithAck('count_user_sockets', userId),
        COUNT_TIMEOUT_MS,
      );
      return others.reduce<number>(
        (sum, n) => sum + (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : 0),
        local,
      );
    } catch (err) {
      logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'other nodes did not report their socket counts: counting this node only',
      );
      return local;
    }
  };
}
