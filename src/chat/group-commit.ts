import mongoose from 'mongoose';

/**
 * Group commit for the writes every send makes. Most of a write's cost, in this
 * process (driver, serialization, the socket) and in the database (command
 * dispatch), is per command rather than per document. So while `maxInFlight`
 * commands of one kind are out, or any batch is, further writes wait and leave
 * together as one command when one comes back. At a low rate nothing waits and
 * every write goes out alone; under load batches form by themselves, without a
 * timer, so a batch never waits longer than the command ahead of it.
 *
 * Each write keeps its own outcome: a batch is unordered, so one document's
 * duplicate key fails that write alone (with the error a single write would
 * have thrown), and an error of the whole command fails every write in it.
 */
export interface GroupCommitOptions<T> {
  /** One write, on its own (the common case at low rates). */
  writeOne(item: T): Promise<unknown>;
  /** Several writes as one unordered command. */
  writeMany(items: T[]): Promise<unknown>;
  maxInFlight: number;
  maxBatch: number;
}

interface Pending<T> {
  item: T;
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupCommit<T> {
  private readonly queue: Array<Pending<T>> = [];
  private inFlight = 0;
  private batchesInFlight = 0;

  constructor(private readonly options: GroupCommitOptions<T>) {}

  /** Resolves once the write is acknowledged; rejects with its own error. */
  write(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    // While a batch is out the process is under load: what arrives meanwhile waits
    // for it and leaves as the next batch, so that commands per write stay few
    // (the database's cost is per command). Parallel commands are for writes that
    // arrive alone, where waiting would only add a round trip.
    while (
      this.inFlight < this.options.maxInFlight &&
      this.queue.length > 0 &&
      this.batchesInFlight === 0
    ) {
      this.inFlight += 1;
      void this.commit(this.queue.splice(0, this.options.maxBatch));
    }
  }

  private async commit(batch: Array<Pending<T>>): Promise<void> {
    let failure: { err: unknown } | null = null;
    const isBatch = batch.length > 1;
    if (isBatch) this.batchesInFlight += 1;
    try {
      if (isBatch) await this.options.writeMany(batch.map((p) => p.item));
      else await this.options.writeOne(batch[0].item);
    } catch (err) {
      failure = { err };
    }
    // The next command leaves before this one's writers resume, so a write they
    // make next finds the slot free (or joins the batch) instead of waiting.
    this.inFlight -= 1;
    if (isBatch) this.batchesInFlight -= 1;
    this.dispatch();
    if (!failure) return batch.forEach((p) => p.resolve());
    const failed = writeErrorsByIndex(failure.err);
    batch.forEach((p, i) => {
      if (!failed) p.reject(failure.err);
      else if (failed.has(i)) p.reject(failed.get(i));
      else p.resolve();
    });
  }
}

interface RawWriteError {
  index: number;
  code?: number;
  errmsg?: string;
}

/**
 * The per-document errors of an unordered bulk command, each as the error the
 * driver throws for that write alone; null when the whole command failed
 * (network, server selection, write concern), which fails every write in it.
 */
function writeErrorsByIndex(err: unknown): Map<number, Error> | null {
  const writeErrors = (err as { writeErrors?: unknown } | null)?.writeErrors;
  if (!Array.isArray(writeErrors) || writeErrors.length === 0) return null;
  const byIndex = new Map<number, Error>();
  for (const writeError of writeErrors as Array<{ err?: RawWriteError } & RawWriteError>) {
    const raw = writeError.err ?? writeError;
    byIndex.set(raw.index, new mongoose.mongo.MongoServerError({ ...raw, message: raw.errmsg }));
  }
  return byIndex;
}
