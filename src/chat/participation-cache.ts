import { LRUCache } from 'lru-cache';
import type { Types } from 'mongoose';
import type { BlockPair } from './blocks';
import { requireParticipation } from './conversation.service';
import { sameId } from './ids';

/**
 * What a send needs to know about its conversation before the insert: who takes
 * part, who blocked whom, where seq stands, and whether it keeps unread counters
 * (deleted_count present). Cached per conversation so that a send costs one
 * database round trip before delivery (the insert) instead of two.
 *
 * Staleness is bounded by invalidation, not by hope:
 * - every change to participants or blocks invalidates the entry on
 *   this node synchronously and, through `transport`, on every other node before
 *   the change is answered (a send that checked before that is concurrent with the
 *   change, exactly as with an uncached read);
 * - a read that started before an invalidation is never stored (the epoch check);
 * - while the transport cannot promise delivery (Redis down), the cache is emptied
 *   and bypassed; a TTL bounds anything missed in ways nobody noticed.
 * last_seq is only a hint: a stale one collides on the unique seq index and is
 * corrected, never a gap.
 */
export interface SendContext {
  _id: Types.ObjectId;
  participants: Types.ObjectId[];
  blocks?: BlockPair[];
  last_seq: number;
  deleted_count?: number | null;
}

export type Invalidation =
  | { conversationId: string }
  /** Every conversation both users take part in (a block between them changed). */
  | { userIds: [string, string] };

/** How invalidations reach the other nodes of a cluster. */
export interface InvalidationTransport {
  /** Resolves once every other node has applied `invalidation`; rejects otherwise. */
  broadcast(invalidation: Invalidation): Promise<void>;
  /** False while this node may miss other nodes' invalidations. */
  reliable(): boolean;
}

export interface ParticipationCacheOptions {
  /** Entry lifetime; 0 disables the cache (every send reads the conversation). */
  ttlMs: number;
  maxEntries?: number;
}

export class ParticipationCache {
  private readonly entries: LRUCache<string, SendContext> | null;
  /** Bumped by every invalidation: a read that spans one is not stored. */
  private epoch = 0;
  private transport: InvalidationTransport | null = null;
  private onBroadcastFailure: (err: unknown) => void = () => undefined;

  constructor(options: ParticipationCacheOptions) {
    this.entries =
      options.ttlMs > 0
        ? new LRUCache({ max: options.maxEntries ?? 20_000, ttl: options.ttlMs })
        : null;
  }

  /** Cluster mode: invalidations also go to, and come from, the other nodes. */
  connect(transport: InvalidationTransport, onBroadcastFailure: (err: unknown) => void): void {
    this.transport = transport;
    this.onBroadcastFailure = onBroadcastFailure;
  }

  /** The conversation as a send sees it, or CONVERSATION_NOT_FOUND for a non-participant. */
  async require(conversationId: string, userId: string): Promise<SendContext> {
    const entries = this.usableEntries();
    const hit = entries?.get(keyOf(conversationId));
    if (hit && hit.participants.some((p) => sameId(p, userId))) return hit;
    const epoch = this.epoch;
    const stored = await requireParticipation(conversationId, userId);
    const context: SendContext = {
      _id: stored._id,
      participants: stored.participants,
      blocks: stored.blocks,
      last_seq: stored.last_seq,
      deleted_count: stored.deleted_count,
    };
    if (entries && epoch === this.epoch && this.usableEntries()) {
      entries.set(keyOf(conversationId), context);
    }
    return context;
  }

  /** A seq known to be stored: the next send's hint starts after it. */
  noteSeq(conversationId: string, seq: number): void {
    const entry = this.entries?.peek(keyOf(conversationId));
    if (entry && seq > entry.last_seq) entry.last_seq = seq;
  }

  /** Applies an invalidation here and waits until every other node has applied it too. */
  async invalidate(invalidation: Invalidation): Promise<void> {
    this.apply(invalidation);
    if (!this.transport) return;
    try {
      await this.transport.broadcast(invalidation);
    } catch (err) {
      // The change itself is committed; a node that did not confirm keeps a stale
      // entry for at most the TTL (and drops it sooner if its Redis link failed).
      this.onBroadcastFailure(err);
    }
  }

  /** Applies an invalidation on this node only (one received from another node). */
  apply(invalidation: Invalidation): void {
    this.epoch++;
    if (!this.entries) return;
    if ('conversationId' in invalidation) {
      this.entries.delete(keyOf(invalidation.conversationId));
      return;
    }
    const [first, second] = invalidation.userIds;
    const affected = [...this.entries.entries()]
      .filter(
        ([, entry]) =>
          entry.participants.some((p) => sameId(p, first)) &&
          entry.participants.some((p) => sameId(p, second)),
      )
      .map(([id]) => id);
    for (const id of affected) this.entries.delete(id);
  }

  clear(): void {
    this.epoch++;
    this.entries?.clear();
  }

  private usableEntries(): LRUCache<string, SendContext> | null {
    if (!this.entries) return null;
    if (this.transport && !this.transport.reliable()) {
      if (this.entries.size > 0) this.clear();
      return null;
    }
    return this.entries;
  }
}

/** Ids arrive in either hex case: one key per conversation, so no invalidation misses. */
function keyOf(conversationId: string): string {
  return conversationId.toLowerCase();
}
