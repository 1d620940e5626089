import mongoose, { Types } from 'mongoose';
import { Conversation } from '../../models';
import {
  ParticipationCache,
  type Invalidation,
  type InvalidationTransport,
  type SendContext,
} from '../../src/chat/participation-cache';
import { createConversation, createUsers, type TestUser } from '../factories';

/** Removes a participant behind the cache's back, as another node would. */
async function removeInDatabase(conversationId: string, user: TestUser): Promise<void> {
  const id = new Types.ObjectId(user.id);
  await Conversation.updateOne({ _id: conversationId }, { $pull: { participants: id } });
}

describe('ParticipationCache (real database)', () => {
  let alice: TestUser, bob: TestUser;
  let conversationId: string;
  beforeEach(async () => {
    [alice, bob] = await createUsers(2);
    conversationId = await createConversation([alice, bob]);
  });

  it('answers a repeated check from memory until the conversation is invalidated', async () => {
    const cache = new ParticipationCache({ ttlMs: 60_000 });
    const first = await cache.require(conversationId, alice.id);
    expect(first.participants.map(String)).toEqual([alice.id, bob.id]);

    await removeInDatabase(conversationId, alice);
    // Still cached: this is exactly why every membership change must invalidate.
    await expect(cache.require(conversationId, alice.id)).resolves.toBe(first);

    await cache.invalidate({ conversationId: conversationId.toUpperCase() });
    await expect(cache.require(conversationId, alice.id)).rejects.toMatchObject({
      code: 'CONVERSATION_NOT_FOUND',
    });
  });

  it('refuses a non-participant from the database, never from a cached entry of others', async () => {
    const [outsider] = await createUsers(1);
    const cache = new ParticipationCache({ ttlMs: 60_000 });
    await cache.require(conversationId, alice.id);
    await expect(cache.require(conversationId, outsider.id)).rejects.toMatchObject({
      code: 'CONVERSATION_NOT_FOUND',
    });
  });

  it('does not keep a read that an invalidation overtook', async () => {
    const cache = new ParticipationCache({ ttlMs: 60_000 });
    const reading = cache.require(conversationId, alice.id);
    cache.apply({ conversationId }); // arrives while the read is in flight
    await reading;
    await removeInDatabase(conversationId, alice);

    await expect(cache.require(conversationId, alice.id)).rejects.toMatchObject({
      code: 'CONVERSATION_NOT_FOUND',
    });
  });

  it('drops every conversation two users share when a block between them changes', async () => {
    const [carol] = await createUsers(1);
    const other = await createConversation([alice, carol]);
    const cache = new ParticipationCache({ ttlMs: 60_000 });
    const kept = await cache.require(other, alice.id);
    await cache.require(conversationId, alice.id);
    await Conversation.updateOne(
      { _id: conversationId },
      { $push: { blocks: { blocker_id: bob.id, blocked_id: alice.id } } },
    );

    await cache.invalidate({ userIds: [bob.id, alice.id] });

    expect((await cache.require(conversationId, alice.id)).blocks).toHaveLength(1);
    await expect(cache.require(other, alice.id)).resolves.toBe(kept);
  });

  it('waits for the other nodes, and bypasses itself while it could miss their invalidations', async () => {
    const sent: Invalidation[] = [];
    let reliable = true;
    const transport: InvalidationTransport = {
      broadcast: async (invalidation) => {
        sent.push(invalidation);
      },
      reliable: () => reliable,
    };
    const cache = new ParticipationCache({ ttlMs: 60_000 });
    cache.connect(transport, () => undefined);
    await cache.require(conversationId, alice.id);

    await cache.invalidate({ conversationId });
    expect(sent).toEqual([{ conversationId }]);

    await cache.require(conversationId, alice.id);
    reliable = false;
    await removeInDatabase(conversationId, alice);
    await expect(cache.require(conversationId, alice.id)).rejects.toMatchObject({
      code: 'CONVERSATION_NOT_FOUND',
    });
  });

  it('reports a node that did not confirm, and still applies the invalidation locally', async () => {
    const failures: unknown[] = [];
    const cache = new ParticipationCache({ ttlMs: 60_000 });
    cache.connect(
      {
        broadcast: () => Promise.reject(new Error('timeout reached: missing 1 responses')),
        reliable: () => true,
      },
      (err) => failures.push(err),
    );
    await cache.require(conversationId, alice.id);
    await removeInDatabase(conversationId, alice);

    await cache.invalidate({ conversationId });

    expect(failures).toHaveLength(1);
    await expect(cache.require(conversationId, alice.id)).rejects.toMatchObject({
      code: 'CONVERSATION_NOT_FOUND',
    });
  });

  it('reads the database every time with a TTL of 0', async () => {
    const cache = new ParticipationCache({ ttlMs: 0 });
    await cache.require(conversationId, alice.id);
    await removeInDatabase(conversationId, alice);
    await expect(cache.require(conversationId, alice.id)).rejects.toMatchObject({
      code: 'CONVERSATION_NOT_FOUND',
    });
  });

  describe('refresh ahead of expiry', () => {
    const TTL = 60_000;
    let clock: number;
    const now = () => clock;
    beforeEach(() => {
      clock = 1_000;
    });

    /**
     * Waits (real time) until the cache serves something other than `entry`. The TTL's
     * clock stands still meanwhile, so nothing can have expired: a new entry is a refresh.
     */
    async function replacementOf(cache: ParticipationCache, entry: SendContext, userId: string) {
      for (let attempt = 0; attempt < 200; attempt++) {
        const current = await cache.require(conversationId, userId).catch((err: unknown) => err);
        if (current !== entry) return current;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('the entry was never replaced');
    }

    it('serves a hit in the last quarter of its life at once and re-reads it in the background', async () => {
      const cache = new ParticipationCache({ ttlMs: TTL, now });
      const first = await cache.require(conversationId, alice.id);
      await Conversation.updateOne(
        { _id: conversationId },
        { $push: { blocks: { blocker_id: bob.id, blocked_id: alice.id } } },
      );

      clock += TTL * 0.7; // not yet in the last quarter: no read
      await expect(cache.require(conversationId, alice.id)).resolves.toBe(first);
      clock += TTL * 0.1;
      // Answered from memory, without waiting for the read it starts.
      await expect(cache.require(conversationId, alice.id)).resolves.toBe(first);

      const refreshed = (await replacementOf(cache, first, alice.id)) as SendContext;
      expect(refreshed.blocks).toHaveLength(1);
      // A fresh entry: the rest of the old one's life, and more, passes without a read.
      clock += TTL * 0.5;
      await expect(cache.require(conversationId, alice.id)).resolves.toBe(refreshed);
    });

    it('never extends an entry the database no longer confirms: the next send reads for itself', async () => {
      const cache = new ParticipationCache({ ttlMs: TTL, now });
      const first = await cache.require(conversationId, alice.id);
      await removeInDatabase(conversationId, alice);

      clock += TTL * 0.9;
      await expect(cache.require(conversationId, alice.id)).resolves.toBe(first);
      await expect(replacementOf(cache, first, alice.id)).resolves.toMatchObject({
        code: 'CONVERSATION_NOT_FOUND',
      });
    });

    it('keeps a noted seq that the stored conversation has not caught up with', async () => {
      const cache = new ParticipationCache({ ttlMs: TTL, now });
      const first = await cache.require(conversationId, alice.id);
      const noted = first.last_seq + 5;
      cache.noteSeq(conversationId, noted);

      clock += TTL * 0.9;
      await cache.require(conversationId, alice.id);
      const refreshed = (await replacementOf(cache, first, alice.id)) as SendContext;
      expect(refreshed.last_seq).toBe(noted);
    });

    it('reads each conversation once at a time however many sends ask', async () => {
      const cache = new ParticipationCache({ ttlMs: TTL, now });
      const first = await cache.require(conversationId, alice.id);
      clock += TTL * 0.9;
      const reads: string[] = [];
      // Mongoose reports every collection call, the driver-level ones included.
      mongoose.set('debug', (collection: string, method: string) => {
        if (collection === 'conversations') reads.push(method);
      });
      try {
        await Promise.all(
          Array.from({ length: 10 }, () => cache.require(conversationId, alice.id)),
        );
        await replacementOf(cache, first, alice.id);
      } finally {
        mongoose.set('debug', false);
      }
      expect(reads).toEqual(['findOne']);
    });
  });
});
