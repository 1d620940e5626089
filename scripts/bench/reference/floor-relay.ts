/**
 * Reference for benchmarks 1, 2 and 6: the floor any persisting chat server pays.
 * A bare Socket.IO relay: the handshake checks the token, each socket joins its
 * user's room, and a send is one insertOne (a message document of the product's
 * shape, into the same database and collection, with its indexes) then one emit
 * to the recipient's room and the ack. Nothing else: no membership check, no
 * read, no conversation update; seq comes from memory.
 */
import { createServer } from 'node:http';
import mongoose from 'mongoose';
import { Server } from 'socket.io';
import { exitOnSignal, listen, referenceEnv, userIdFromToken } from './common';

const { MongoClient, ObjectId } = mongoose.mongo;

interface RelayAck {
  (body: { success: boolean; data?: unknown }): void;
}
interface ClientEvents {
  send_message(payload: unknown, ack?: RelayAck): void;
}
interface ServerEvents {
  new_message(message: Record<string, unknown>): void;
}
interface SocketData {
  userId: string;
}

const HEX_ID = /^[0-9a-f]{24}$/;

async function main(): Promise<void> {
  const env = referenceEnv();
  const client = await MongoClient.connect(env.mongoUri, { maxPoolSize: 50 });
  const messages = client.db().collection('messages');
  const http = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404).end();
  });
  const io = new Server<ClientEvents, ServerEvents, Record<string, never>, SocketData>(http, {
    perMessageDeflate: false,
  });
  io.use((socket, next) => {
    const userId = userIdFromToken(socket.handshake.auth?.token, env.jwtSecret);
    if (!userId) return next(new Error('Invalid token'));
    socket.data.userId = userId;
    next();
  });
  const seqs = new Map<string, number>();
  io.on('connection', (socket) => {
    const senderId = socket.data.userId;
    void socket.join(`user:${senderId}`);
    socket.on('send_message', async (payload, ack) => {
      const {
        conversation_id: conversationId,
        to,
        text,
      } = (payload ?? {}) as Record<string, unknown>;
      if (
        typeof conversationId !== 'string' ||
        !HEX_ID.test(conversationId) ||
        typeof to !== 'string' ||
        typeof text !== 'string'
      ) {
        ack?.({ success: false });
        return;
      }
      const seq = (seqs.get(conversationId) ?? 0) + 1;
      seqs.set(conversationId, seq);
      const now = new Date();
      const doc = {
        _id: new ObjectId(),
        conversation_id: new ObjectId(conversationId),
        sender_id: new ObjectId(senderId),
        text,
        seq,
        is_read: false,
        read_at: null,
        status: 'sent',
        delivered_at: null,
        deleted_at: null,
        sent_at: now,
        changed_at: now,
      };
      try {
        await messages.insertOne(doc);
      } catch {
        ack?.({ success: false });
        return;
      }
      const view = {
        _id: doc._id.toHexString(),
        conversation_id: conversationId,
        sender_id: senderId,
        text,
        seq,
        sent_at: now.toISOString(),
      };
      io.to(`user:${to}`).emit('new_message', view);
      ack?.({ success: true, data: view });
    });
  });
  await listen(http, env.port);
  exitOnSignal(async () => {
    await new Promise<void>((resolve) => io.close(() => resolve()));
    await client.close();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
