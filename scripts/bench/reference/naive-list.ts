/**
 * Reference for benchmark 5: the conversation list as a naive implementation
 * writes it, on the same models and with the same page size and response shape
 * as the product, counting unread messages with one countDocuments per
 * conversation (in parallel). Auth is the product's: verify the token, load the user.
 */
import express from 'express';
import { createServer } from 'node:http';
import mongoose, { Types } from 'mongoose';
import {
  Conversation,
  Message,
  User,
  USER_PROFILE_FIELDS,
  type UserProfile,
} from '../../../models';
import {
  toConversationView,
  toProfileView,
  type ConversationRecord,
} from '../../../src/chat/presenters';
import { exitOnSignal, listen, referenceEnv, userIdFromToken } from './common';

type ListedConversation = ConversationRecord & {
  members: Array<{ user_id: Types.ObjectId; read_seq: number }>;
};

async function main(): Promise<void> {
  const env = referenceEnv();
  await mongoose.connect(env.mongoUri, { maxPoolSize: 50 });
  const app = express();
  app.get('/health', (_req, res) => {
    res.sendStatus(200);
  });
  app.get('/api/chat/conversations', async (req, res) => {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const userId = userIdFromToken(token, env.jwtSecret);
    const user = userId ? await User.findById(userId, USER_PROFILE_FIELDS).lean() : null;
    if (!userId || !user) {
      res.status(401).json({ success: false, message: 'Unauthorized' });
      return;
    }
    const limit = Math.min(Number(req.query.limit ?? 20), 100);
    const me = new Types.ObjectId(userId);
    const conversations = await Conversation.find({ participants: me })
      .sort({ last_activity_at: -1, _id: -1 })
      .limit(limit)
      .lean<ListedConversation[]>();
    const users = await User.find(
      { _id: { $in: conversations.flatMap((c) => c.participants) } },
      USER_PROFILE_FIELDS,
    ).lean<UserProfile[]>();
    const profiles = new Map(users.map((u) => [u._id.toString(), toProfileView(u)]));
    const counts = await Promise.all(
      conversations.map((c) => {
        const readSeq = c.members.find((m) => m.user_id.equals(me))?.read_seq ?? 0;
        return Message.countDocuments({
          conversation_id: c._id,
          seq: { $gt: readSeq },
          sender_id: { $ne: me },
          deleted_at: null,
        });
      }),
    );
    res.json({
      success: true,
      data: conversations.map((c, i) => toConversationView(c, profiles, counts[i])),
    });
  });
  const http = createServer(app);
  await listen(http, env.port);
  exitOnSignal(async () => {
    http.close();
    await mongoose.disconnect();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
