import mongoose from 'mongoose';
import { Conversation, Message, User } from '../../../models';
import { participantKey } from '../../../src/chat/conversation.service';

/**
 * Seeds benchmark data straight into MongoDB with the raw driver (insertMany in
 * batches), consistent with the schemas: what the services would have written.
 */
const { MongoClient, ObjectId } = mongoose.mongo;
type ObjectId = InstanceType<typeof ObjectId>;
type Db = ReturnType<InstanceType<typeof MongoClient>['db']>;
type Doc = Record<string, unknown>;

export interface SeedDb {
  db: Db;
  close(): Promise<void>;
}

/** Opens `dbName`, dropping what a previous run left, and creates the models' indexes. */
export async function openFreshDb(uri: string): Promise<SeedDb> {
  const client = await MongoClient.connect(uri);
  const db = client.db();
  await db.dropDatabase();
  for (const model of [User, Conversation, Message]) {
    const collection = db.collection(model.collection.collectionName);
    for (const [fields, options] of model.schema.indexes()) {
      await collection.createIndex(fields as Record<string, 1 | -1>, options as object);
    }
  }
  return { db, close: () => client.close() };
}

/** One collection of an existing database, for benchmarks that clean up between windows. */
export async function openCollection(
  uri: string,
  name: string,
): Promise<{ collection: ReturnType<Db['collection']>; close(): Promise<void> }> {
  const client = await MongoClient.connect(uri);
  return { collection: client.db().collection(name), close: () => client.close() };
}

export async function insertBatched(
  db: Db,
  collection: string,
  docs: Doc[],
  batch = 1000,
): Promise<void> {
  for (let i = 0; i < docs.length; i += batch) {
    await db.collection(collection).insertMany(docs.slice(i, i + batch), { ordered: false });
  }
}

/** `n` users; returns their ids as strings. */
export async function seedUsers(db: Db, n: number, prefix: string): Promise<string[]> {
  const now = new Date();
  const docs = Array.from({ length: n }, (_, i) => ({
    _id: new ObjectId(),
    full_name: `${prefix} ${i}`,
    profile_picture_url: `https://cdn.example.com/${prefix}/${i}.jpg`,
    email: `${prefix}.${i}@bench.example.com`,
    createdAt: now,
    updatedAt: now,
    __v: 0,
  }));
  await insertBatched(db, 'users', docs);
  return docs.map((d) => d._id.toHexString());
}

export interface SeededMessage {
  _id: ObjectId;
  conversation_id: ObjectId;
  sender_id: ObjectId;
  text: string;
  seq: number;
  sent_at: Date;
  is_read: boolean;
}

export function messageDoc(
  conversationId: ObjectId,
  senderId: string,
  seq: number,
  sentAt: Date,
  read: boolean,
): SeededMessage & Doc {
  return {
    _id: new ObjectId(),
    conversation_id: conversationId,
    sender_id: new ObjectId(senderId),
    text: `message ${seq}: a typical short chat line about the listing`,
    seq,
    is_read: read,
    read_at: read ? sentAt : null,
    status: read ? 'read' : 'sent',
    delivered_at: null,
    deleted_at: null,
    sent_at: sentAt,
    changed_at: sentAt,
  };
}

/**
 * A 1:1 conversation between `a` and `b` as the service stores it, its last
 * message, read horizons and unread counts given by the caller (last_seq = last.seq).
 */
export function conversationDoc(
  a: string,
  b: string,
  options: {
    last?: SeededMessage;
    readSeq?: Record<string, number>;
    /** Each member's unread count (the service's counters, see src/chat/unread-counters.ts). */
    unread?: Record<string, number>;
    at?: Date;
    _id?: ObjectId;
  } = {},
): Doc & { _id: ObjectId } {
  const at = options.at ?? new Date();
  const last = options.last;
  return {
    _id: options._id ?? new ObjectId(),
    participants: [new ObjectId(a), new ObjectId(b)],
    participant_key: participantKey([a, b], null),
    listing_id: null,
    created_by: new ObjectId(a),
    members: [a, b].map((id) => ({
      user_id: new ObjectId(id),
      read_seq: options.readSeq?.[id] ?? 0,
      last_read_at: null,
      unread_count: options.unread?.[id] ?? 0,
      unread_valid: true,
    })),
    blocks: [],
    last_seq: last?.seq ?? 0,
    deleted_count: 0,
    // Every send recorded, as the service leaves it: the counters are trusted.
    recorded_count: last?.seq ?? 0,
    last_message: last
      ? {
          seq: last.seq,
          message_id: last._id,
          text: last.text,
          sender_id: last.sender_id,
          sent_at: last.sent_at,
          is_read: last.is_read,
        }
      : null,
    last_message_at: last?.sent_at ?? null,
    last_activity_at: last?.sent_at ?? at,
    created_at: at,
    updated_at: at,
    __v: 0,
  };
}

export { ObjectId };
