import mongoose from 'mongoose';
import { isDuplicateKeyOn } from '../../src/chat/db-errors';
import { GroupCommit } from '../../src/chat/group-commit';

type Probe = { _id: mongoose.Types.ObjectId; k: number };

/** A GroupCommit over a real collection that records the size of every command it sends. */
function probeCommit(
  collection: mongoose.mongo.Collection<Probe>,
  maxBatch = 256,
  maxInFlight = 1,
) {
  const commands: number[] = [];
  const commit = new GroupCommit<Probe>({
    writeOne: (doc) => {
      commands.push(1);
      return collection.insertOne(doc);
    },
    writeMany: (docs) => {
      commands.push(docs.length);
      return collection.insertMany(docs, { ordered: false });
    },
    maxInFlight,
    maxBatch,
  });
  return { commit, commands };
}

const doc = (k: number): Probe => ({ _id: new mongoose.Types.ObjectId(), k });

describe('GroupCommit (real database)', () => {
  let collection: mongoose.mongo.Collection<Probe>;
  beforeEach(async () => {
    const db = mongoose.connection.db;
    if (!db) throw new Error('not connected');
    collection = db.collection<Probe>(
      `group_commit_${new mongoose.Types.ObjectId().toHexString()}`,
    );
    await collection.createIndex({ k: 1 }, { unique: true });
  });

  it('sends a write alone while nothing is in flight, and the ones queued behind it together', async () => {
    const { commit, commands } = probeCommit(collection);
    await commit.write(doc(-1));
    expect(commands).toEqual([1]);

    await Promise.all(Array.from({ length: 50 }, (_, k) => commit.write(doc(k))));

    // The first of the burst goes out at once; the other 49 wait for it and leave as one command.
    expect(commands).toEqual([1, 1, 49]);
    expect(await collection.countDocuments()).toBe(51);
  });

  it('sends up to maxInFlight writes alone side by side, and batches only what queues behind them', async () => {
    const { commit, commands } = probeCommit(collection, 256, 3);
    await Promise.all(Array.from({ length: 10 }, (_, k) => commit.write(doc(k))));
    // Three go out at once, each alone; the other seven leave together when one returns.
    expect(commands).toEqual([1, 1, 1, 7]);
    expect(await collection.countDocuments()).toBe(10);
  });

  it('holds writes back while a batch is out, so that a loaded process keeps batching', async () => {
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const commands: number[] = [];
    const commit = new GroupCommit<Probe>({
      writeOne: async (d) => {
        commands.push(1);
        await collection.insertOne(d);
      },
      writeMany: async (docs) => {
        commands.push(docs.length);
        await gate;
        await collection.insertMany(docs, { ordered: false });
      },
      maxInFlight: 3,
      maxBatch: 256,
    });
    const burst = Array.from({ length: 5 }, (_, k) => commit.write(doc(k)));
    // Three alone, then the two that queued behind them leave as a batch (held at the gate).
    for (let i = 0; i < 200 && commands.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
    expect(commands).toEqual([1, 1, 1, 2]);

    const later = Array.from({ length: 3 }, (_, k) => commit.write(doc(10 + k)));
    await new Promise((r) => setTimeout(r, 50));
    // Slots are free again, but these wait for the batch and then leave together.
    expect(commands).toEqual([1, 1, 1, 2]);
    openGate();
    await Promise.all([...burst, ...later]);
    expect(commands).toEqual([1, 1, 1, 2, 3]);
    expect(await collection.countDocuments()).toBe(8);
  });

  it('splits a long queue into commands of at most maxBatch', async () => {
    const { commit, commands } = probeCommit(collection, 4);
    await Promise.all(Array.from({ length: 10 }, (_, k) => commit.write(doc(k))));
    expect(commands).toEqual([1, 4, 4, 1]);
    expect((await collection.find().toArray()).map((d) => d.k).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  it('fails only the write whose key is taken, with the error that write alone would get', async () => {
    await collection.insertOne(doc(5));
    const { commit, commands } = probeCommit(collection);

    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, k) => commit.write(doc(k))),
    );

    expect(commands).toEqual([1, 9]);
    const rejected = outcomes.flatMap((o, k) => (o.status === 'rejected' ? [[k, o.reason]] : []));
    expect(rejected).toHaveLength(1);
    const [k, reason] = rejected[0] as [number, unknown];
    expect(k).toBe(5);
    expect(reason).toBeInstanceOf(mongoose.mongo.MongoServerError);
    expect(isDuplicateKeyOn(reason, 'k')).toBe(true);
    // Everything else in that command was stored, once.
    const stored = (await collection.find().toArray()).map((d) => d.k).sort((a, b) => a - b);
    expect(stored).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('fails every write of a command that fails as a whole, and keeps working afterwards', async () => {
    const uri = (mongoose.connection.getClient().options.hosts ?? [])
      .map((h) => h.toString())
      .join(',');
    const closed = new mongoose.mongo.MongoClient(`mongodb://${uri}`);
    await closed.connect();
    const unreachable = closed.db(collection.dbName).collection<Probe>(collection.collectionName);
    await closed.close();
    const { commit, commands } = probeCommit(unreachable);

    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, (_, k) => commit.write(doc(k))),
    );

    expect(commands).toEqual([1, 4]);
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(await collection.countDocuments()).toBe(0);
    // The queue is not stuck behind the failures.
    const healthy = probeCommit(collection);
    await healthy.commit.write(doc(1));
    expect(await collection.countDocuments()).toBe(1);
  });
});
