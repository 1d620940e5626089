import { Types } from 'mongoose';
import { Block, Conversation } from '../../models';
import { AppError } from '../lib/errors';
import type { BlockPair } from './blocks';
import type { ParticipationCache } from './participation-cache';
import type { Actor } from './types';
import { countExistingUsers } from './user.service';

export interface BlockView {
  blocked_id: string;
  created_at: string;
}

export function createBlockService(participation: ParticipationCache) {
  return {
    /**
     * The caller blocks `userId`: their messages to the caller are refused and no
     * notification is sent. Idempotent; repeating it also repairs the copies on
     * conversations if a previous call stopped half-way.
     */
    async block(actor: Actor, userId: string): Promise<BlockView> {
      if (userId === actor.id) throw new AppError('VALIDATION_FAILED', 'You cannot block yourself');
      if ((await countExistingUsers([userId])) !== 1) throw new AppError('USER_NOT_FOUND');
      const pair = {
        blocker_id: new Types.ObjectId(actor.id),
        blocked_id: new Types.ObjectId(userId),
      };
      await Block.updateOne(pair, { $setOnInsert: { created_at: new Date() } }, { upsert: true });
      await Conversation.updateMany(
        { participants: { $all: [pair.blocker_id, pair.blocked_id] } },
        { $addToSet: { blocks: pair } },
      );
      await participation.invalidate({ userIds: [actor.id, userId] });
      const stored = await Block.findOne(pair).lean();
      return { blocked_id: userId, created_at: (stored?.created_at ?? new Date()).toISOString() };
    },

    async unblock(actor: Actor, userId: string): Promise<{ blocked_id: string; removed: boolean }> {
      const pair = {
        blocker_id: new Types.ObjectId(actor.id),
        blocked_id: new Types.ObjectId(userId),
      };
      const { deletedCount } = await Block.deleteOne(pair);
      await Conversation.updateMany(
        { participants: { $all: [pair.blocker_id, pair.blocked_id] } },
        { $pull: { blocks: pair } },
      );
      await participation.invalidate({ userIds: [actor.id, userId] });
      return { blocked_id: userId, removed: deletedCount > 0 };
    },

    async list(actor: Actor): Promise<BlockView[]> {
      const blocks = await Block.find({ blocker_id: actor.id }).sort({ created_at: -1 }).lean();
      return blocks.map((b) => ({
        blocked_id: b.blocked_id.toString(),
        created_at: b.created_at.toISOString(),
      }));
    },
  };
}

/** Blocks among a set of users (for a conversation being created). */
export async function blocksAmong(userIds: string[]): Promise<BlockPair[]> {
  return Block.find(
    { blocker_id: { $in: userIds }, blocked_id: { $in: userIds } },
    { _id: 0, blocker_id: 1, blocked_id: 1 },
  ).lean<BlockPair[]>();
}

export type BlockService = ReturnType<typeof createBlockService>;
