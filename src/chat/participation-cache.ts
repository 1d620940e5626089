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
  /** The clock of the TTL (tests); performance.now by default. */
  now?: () => number;
}

/**
 * A hit in the last quarter of its entry's life re-reads the conversation in the
 * background, so a conversation in use is never read on the path of a send: on
 * expiry, one send in every TTL's worth paid a read before its insert. npm run
 * bench (send, where a conversation sends about 15 times per TTL): 6.5 % of sends
 * spent 0.6-1 ms there, and they were a third of the slowest 2 %.
 */
const REFRESH_IN_LAST = 0.25;

export class ParticipationCache {
  private readonly entries: LRUCache<string, SendContext> | null;
  private readonly refreshBelowMs: number;
  /** Conversations being re-read in the background (one read each at a time). */
  private readonly refreshing = new Set<string>();
  /** Bumped by every invalidation: a read that spans one is not stored. */
  private epoch = 0;
  private transport: InvalidationTransport | null = null;
  private onBroadcastFailure: (err: unknown) => void = () => undefined;

  constructor(options: ParticipationCacheOptions) {
    this.entries =
      options.ttlMs > 0
        ? new LRUCache({
            max: options.maxEntries ?? 20_000,
            ttl: options.ttlMs,
            ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
          })
        : null;
    this.refreshBelowMs = options.ttlMs * REFRESH_IN_LAST;
  }

  /** Cluster mode: invalidations also go to, and come from, the other nodes. */
  connect(transport: InvalidationTransport, onBroadcastFailure: (err: unknown) => void): void {
    this.transport = transport;
    this.onBroadcastFailure = onBroadcastFailure;
  }

  /** The conversation as a send sees it, or CONVERSATION_NOT_FOUND for a non-participant. */
  async require(conversationId: string, userId: string): Promise<SendContext> {
    const entries = this.usableEntries();
    const key = keyOf(conversationId);
    const hit = entries?.get(key);
    if (hit && hit.participants.some((p) => sameId(p, userId))) {
      if (entries && entries.getRemainingTTL(key) <= this.refreshBelowMs) {
        this.refreshInBackground(key, conversationId, userId);
      }
      return hit;
    }
    return this.read(key, conversationId, userId);
  }

  /** Reads the conversation and caches it, unless an invalidation overtook the read. */
  private async read(key: string, conversationId: string, userId: string): Promise<SendContext> {
    const epoch = this.epoch;
    const stored = await requireParticipation(conversationId, userId);
    const context: SendContext = {
      _id: stored._id,
      participants: stored.participants,
      blocks: stored.blocks,
      last_seq: stored.last_seq,
      deleted_count: stored.deleted_count,
    };
    const entries = this.usableEntries();
    if (entries && epoch === this.epoch) {
      // A seq noted since may be ahead of the stored one (its conversation update
      // still in flight): keep it, or the next send would collide and retry.
      const noted = entries.peek(key)?.last_seq ?? 0;
      context.last_seq = Math.max(context.last_seq, noted);
      entries.set(key, context);
    }
    return context;
  }

  private refreshInBackground(key: string, conversationId: string, userId: string): void {
    if (this.refreshing.has(key)) return;
    this.refreshing.add(key);
    void this.read(key, conversationId, userId)
      // Whatever failed (the user left, the database), the entry is not trusted for
      // its last moments: the next send reads for itself, as after expiry.
      .catch(() => this.entries?.delete(key))
      .finally(() => this.refreshing.delete(key));
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
