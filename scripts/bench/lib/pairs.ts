import type { BenchContext } from './context';
import { conversationDoc, insertBatched, ObjectId, openFreshDb, seedUsers } from './seed';
import type { SendArm, SendPair } from './send-load';
import { connectMany, emitAck, type BenchSocket } from './sockets';
import { tokenFor } from './tokens';

/** Users paired in 1:1 conversations, for the send → deliver benchmarks. */
export interface PairSeed {
  senders: string[];
  recipients: string[];
  conversations: string[];
}

export async function seedPairs(ctx: BenchContext, dbName: string, n: number): Promise<PairSeed> {
  const seed = await openFreshDb(ctx.dbUri(dbName));
  try {
    const users = await seedUsers(seed.db, n * 2, 'pair');
    const senders = users.filter((_, i) => i % 2 === 0);
    const recipients = users.filter((_, i) => i % 2 === 1);
    const docs = senders.map((s, i) => conversationDoc(s, recipients[i]));
    await insertBatched(seed.db, 'conversations', docs);
    return { senders, recipients, conversations: docs.map((d) => d._id.toHexString()) };
  } finally {
    await seed.close();
  }
}

/** Consecutive slices of `parts` pairs each: disjoint users and conversations per arm. */
export function splitPairs(seed: PairSeed, parts: number): PairSeed[] {
  const size = Math.floor(seed.senders.length / parts);
  return Array.from({ length: parts }, (_, i) => ({
    senders: seed.senders.slice(i * size, (i + 1) * size),
    recipients: seed.recipients.slice(i * size, (i + 1) * size),
    conversations: seed.conversations.slice(i * size, (i + 1) * size),
  }));
}

export interface ConnectedArm {
  arm: SendArm;
  sockets: BenchSocket[];
}

function buildPairs(
  senders: BenchSocket[],
  recipients: BenchSocket[],
  seed: PairSeed,
  conversations: string[],
): SendPair[] {
  return senders.map((sender, i) => ({
    sender,
    recipient: recipients[i],
    conversationId: conversations[i],
    recipientId: seed.recipients[i],
  }));
}

/**
 * The product's clients: senders connect to `senderUrl`, recipients to
 * `recipientUrl` (another node in the two-node benchmark), and both join the
 * conversation, as a chat screen does.
 */
export async function connectProductArm(
  ctx: BenchContext,
  name: string,
  urls: { sender: string; recipient: string },
  seed: PairSeed,
  pids: number[],
): Promise<ConnectedArm> {
  const senders = await connectMany(
    urls.sender,
    seed.senders.map((id) => tokenFor(id, ctx.jwtSecret)),
  );
  const recipients = await connectMany(
    urls.recipient,
    seed.recipients.map((id) => tokenFor(id, ctx.jwtSecret)),
  );
  const joins = [...senders, ...recipients].map((socket, i) => ({
    socket,
    conversationId: seed.conversations[i % seed.conversations.length],
  }));
  for (let i = 0; i < joins.length; i += 100) {
    const acks = await Promise.all(
      joins.slice(i, i + 100).map((j) => emitAck(j.socket, 'join_conversation', j.conversationId)),
    );
    if (acks.some((a) => !a.success)) throw new Error(`${name}: join_conversation failed`);
  }
  return {
    sockets: [...senders, ...recipients],
    arm: {
      name,
      pids,
      pairs: buildPairs(senders, recipients, seed, seed.conversations),
      payload: (pair, text) => ({ conversation_id: pair.conversationId, text }),
    },
  };
}

/** The floor relay's clients: same users, their own conversation ids, the recipient named. */
export async function connectFloorArm(
  ctx: BenchContext,
  name: string,
  url: string,
  seed: PairSeed,
  pid: number,
): Promise<ConnectedArm> {
  const senders = await connectMany(
    url,
    seed.senders.map((id) => tokenFor(id, ctx.jwtSecret)),
  );
  const recipients = await connectMany(
    url,
    seed.recipients.map((id) => tokenFor(id, ctx.jwtSecret)),
  );
  const conversations = seed.senders.map(() => new ObjectId().toHexString());
  return {
    sockets: [...senders, ...recipients],
    arm: {
      name,
      pids: [pid],
      pairs: buildPairs(senders, recipients, seed, conversations),
      payload: (pair, text) => ({
        conversation_id: pair.conversationId,
        to: pair.recipientId,
        text,
      }),
    },
  };
}
