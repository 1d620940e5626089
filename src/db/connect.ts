import mongoose from 'mongoose';
import { Block, Conversation, Message, User } from '../../models';

/** The longest a command may wait for its reply: every request-path command takes milliseconds. */
const SOCKET_TIMEOUT_MS = 10_000;
/** Index builds waited for at boot, in SOCKET_TIMEOUT_MS slices (an hour). */
const INDEX_BUILD_ATTEMPTS = 360;

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
    // A server that stops answering on open connections (hung, partitioned without
    // a reset): a command gets no reply for SOCKET_TIMEOUT_MS and fails (503), and the
    // monitor notices within heartbeat + connect timeout (~10 s) and clears the pool.
    // With the driver's defaults (no socket timeout; 10 s, 30 s) a request could hang
    // for 30-40 s, and for good on one hung connection while the server looked fine.
    socketTimeoutMS: SOCKET_TIMEOUT_MS,
    heartbeatFrequencyMS: 5000,
    connectTimeoutMS: 5000,
    // Fail fast while the database is unreachable instead of queueing requests forever.
    bufferCommands: false,
    // Indexes are created once, awaited, by ensureIndexes below; Mongoose's own
    // background build at connect would send every createIndexes a second time.
    autoIndex: false,
    maxPoolSize: 50,
  });
  await ensureIndexes();
  return mongoose;
}

/**
 * Creates every index (a no-op for those that exist). Building one on a large
 * collection can outlast the socket timeout; the build goes on in the server, and
 * asking again waits for it, so a timed-out attempt is simply repeated.
 */
async function ensureIndexes(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await Promise.all([
        User.createIndexes(),
        Conversation.createIndexes(),
        Message.createIndexes(),
        Block.createIndexes(),
      ]);
      return;
    } catch (err) {
      // A socket timeout only: a server that cannot be reached fails the boot at once.
      const timedOut = err instanceof Error && err.name === 'MongoNetworkTimeoutError';
      if (!timedOut || attempt >= INDEX_BUILD_ATTEMPTS) throw err;
    }
  }
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
