import type { Invalidation, ParticipationCache } from '../chat/participation-cache';
import { isObjectIdString } from '../chat/ids';
import type { Logger } from '../lib/logger';
import { withDeadline } from '../lib/deadline';
import type { ChatServer } from './socket-types';

/** The adapter's own wait for other nodes' acknowledgements (its requestsTimeout) plus a margin. */
const INVALIDATION_TIMEOUT_MS = 6000;

/**
 * Cluster mode: the participation cache's invalidations travel through the
 * Socket.IO adapter (Redis) to every other node, and a change is answered only
 * once they have all applied it (serverSideEmitWithAck).
 */
export function shareInvalidations(
  io: ChatServer,
  cache: ParticipationCache,
  cluster: { reliable: () => boolean; canPublish: () => boolean; logger: Logger },
): void {
  const { logger } = cluster;
  io.on('participation_invalidate', (invalidation, done) => {
    if (isInvalidation(invalidation)) cache.apply(invalidation);
    else cache.clear();
    done();
  });
  cache.connect(
    {
      broadcast: async (invalidation) => {
        // With this node's main Redis connection down the emit cannot leave: not
        // attempted (the adapter's count of nodes would fail inside Socket.IO,
        // unhandled, and the change wait the whole deadline for nothing). Nodes that do
        // hear Redis keep a stale entry for at most the TTL, as when one does not answer.
        if (!cluster.canPublish()) throw new Error('Redis unreachable from this node');
        // Bounded: without Redis the adapter's emit never settles, and the change
        // that asked (a removal, a block) would never be answered.
        await withDeadline(
          io.serverSideEmitWithAck('participation_invalidate', invalidation),
          INVALIDATION_TIMEOUT_MS,
        );
      },
      reliable: cluster.reliable,
    },
    (err) =>
      logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'a node did not confirm a cache invalidation; its entry expires with the TTL',
      ),
  );
}

/** Another node sent it, but through Redis: anything unexpected clears everything. */
function isInvalidation(value: unknown): value is Invalidation {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if ('conversationId' in v) return isObjectIdString(v.conversationId);
  return Array.isArray(v.userIds) && v.userIds.length === 2 && v.userIds.every(isObjectIdString);
}
