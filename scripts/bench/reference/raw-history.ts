/**
 * Reference for benchmark 4: a minimal Express route running the single query a
 * history page comes down to, with the raw driver: the `limit` live messages
 * just below `before`, as the seq range [before - limit, before) of the
 * (conversation_id, seq) index, newest first, returned oldest first.
 * No auth, no membership check, no read receipt, no sender profiles.
 */
import express from 'express';
import { createServer } from 'node:http';
import mongoose from 'mongoose';
import { exitOnSignal, listen, referenceEnv } from './common';

const { MongoClient, ObjectId } = mongoose.mongo;

async function main(): Promise<void> {
  const env = referenceEnv();
  const client = await MongoClient.connect(env.mongoUri, { maxPoolSize: 50 });
  const messages = client.db().collection('messages');
  const app = express();
  app.get('/health', (_req, res) => {
    res.sendStatus(200);
  });
  app.get('/history/:conversationId', async (req, res) => {
    const before = Number(req.query.before);
    const limit = Number(req.query.limit ?? 30);
    const page = await messages
      .find({
        conversation_id: new ObjectId(req.params.conversationId),
        deleted_at: null,
        seq: { $gte: before - limit, $lt: before },
      })
      .sort({ seq: -1 })
      .limit(limit)
      .toArray();
    res.json({ success: true, data: page.reverse() });
  });
  const http = createServer(app);
  await listen(http, env.port);
  exitOnSignal(async () => {
    http.close();
    await client.close();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
