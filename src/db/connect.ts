import mongoose from 'mongoose';
import { Block, Conversation, Message, User } from '../../models';

// Filters only ever contain paths our schemas know; anything else is dropped.
mongoose.set('strictQuery', true);

/** Connects the default Mongoose connection and makes sure every index exists. */
export async function connectDatabase(uri: string, dbName?: string): Promise<typeof mongoose> {
  // A URI without a database path would land in "test"; ours is "chat".
  const uriNamesDatabase = /^mongodb(\+srv)?:\/\/[^/]+\/[^?]+/.test(uri);
  await mongoose.connect(uri, {
    dbName: dbName ?? (uriNamesDatabase ? undefined : 'chat'),
    // Short enough that a request during an outage fails fast (503) instead of hanging.
    serverSelectionTimeoutMS: 3000,
    // Fail fast while the database is unreachable instead of queueing requests forever.
    bufferCommands: false,
    maxPoolSize: 50,
  });
  await Promise.all([
    User.createIndexes(),
    Conversation.createIndexes(),
    Message.createIndexes(),
    Block.createIndexes(),
  ]);
  return mongoose;
}

export async function disconnectDatabase(): Promise<void> {
  await mongoose.disconnect();
}

/** True while the driver can reach the server (used by /ready). */
export async function databaseIsReachable(timeoutMs = 1000): Promise<boolean> {
  const db = mongoose.connection.db;
  if (mongoose.connection.readyState !== 1 || !db) return false;
  try {
    await Promise.race([
      db.admin().command({ ping: 1 }),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('ping timeout')), timeoutMs).unref(),
      ),
    ]);
    return true;
  } catch {
    return false;
  }
}
