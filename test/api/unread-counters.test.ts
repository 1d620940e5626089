import fc from 'fast-check';
import { Types } from 'mongoose';
import { Conversation, Message } from '../../models';
import type { ConversationView } from '../../src/chat/types';
import { createUsers, type TestUser } from '../factories';
import { client, conversationOf, dataOf, messagesOf } from '../helpers/api';
import { buildTestApp } from '../helpers/app';
import { recordLastMessage } from '../../src/chat/message-writes';
import type { MessageRecord } from '../../src/chat/presenters';

type App = ReturnType<typeof buildTestApp>['app'];

/** A conversation created by the service (so with counters) between `users`. */
async function conversationOf3(app: App, users: TestUser[]): Promise<string> {
  const [first, ...others] = users;
  const res = await client(app, first.token)
    .post('/conversations')
    .send(
      others.length === 1
        ? { recipient_id: others[0].id }
        : { participant_ids: others.map((u) => u.id) },
    );
  expect([200, 201]).toContain(res.status);
  return conversationOf(res)._id;
}

const send = async (app: App, user: TestUser, conversationId: string, text = 'hello') => {
  const res = await client(app, user.token)
    .post(`/conversations/${conversationId}/messages`)
    .send({ text });
  expect(res.status).toBe(201);
};

const readAll = async (app: App, user: TestUser, conversationId: string) => {
  expect(
    (await client(app, user.token).get(`/conversations/${conversationId}/messages`)).status,
  ).toBe(200);
};

/** What the list shows the user for the conversation. */
async function listed(app: App, user: TestUser, conversationId: string): Promise<number> {
  const res = await client(app, user.token).get('/conversations?limit=100');
  const found = dataOf<ConversationView[]>(res).find((c) => c._id === conversationId);
  if (!found) throw new Error('conversation not listed');
  return found.unread_count;
}

/** The definition: other people's live messages above the user's read horizon. */
async function derived(user: TestUser, conversationId: string): Promise<number> {
  const conversation = await Conversation.findById(conversationId).lean();
  const readSeq = conversation?.members.find((m) => m.user_id.toString() === user.id)?.read_seq;
  return Message.countDocuments({
    conversation_id: conversationId,
    seq: { $gt: readSeq ?? 0 },
    sender_id: { $ne: user.id },
    deleted_at: null,
  });
}

async function counterOf(user: TestUser, conversationId: string) {
  const conversation = await Conversation.findById(conversationId).lean();
  const member = conversation?.members.find((m) => m.user_id.toString() === user.id);
  return { count: member?.unread_count, valid: member?.unread_valid };
}

/** A send whose insert committed but whose last_message update a crash lost. */
async function insertWithoutRecording(user: TestUser, conversationId: string): Promise<void> {
  const conversation = await Conversation.findById(conversationId).lean();
  const newest = await Message.findOne({ conversation_id: conversationId })
    .sort({ seq: -1 })
    .lean();
  const at = new Date();
  await Message.collection.insertOne({
    _id: new Types.ObjectId(),
    conversation_id: new Types.ObjectId(conversationId),
    sender_id: new Types.ObjectId(user.id),
    text: 'orphan',
    seq: Math.max(conversation?.last_seq ?? 0, newest?.seq ?? 0) + 1,
    is_read: false,
    read_at: null,
    status: 'sent',
    delivered_at: null,
    deleted_at: null,
    sent_at: at,
    changed_at: at,
  });
}

describe('unread counters', () => {
  /** Alice sends Bob three messages in a conversation the service created (counters on). */
  async function threeToBob() {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await conversationOf3(app, [alice, bob]);
    for (let i = 0; i < 3; i++) await send(app, alice, conversationId);
    return { app, alice, bob, conversationId };
  }

  /** Runs `work`, asserting that no message was counted (no aggregate) meanwhile. */
  async function withoutCounting(work: () => Promise<void>) {
    const aggregate = jest.spyOn(Message.collection, 'aggregate');
    try {
      await work();
      expect(aggregate).not.toHaveBeenCalled();
    } finally {
      aggregate.mockRestore();
    }
  }

  it('counts in-order sends in the counter and lists it without counting messages', async () => {
    const { app, alice, bob, conversationId } = await threeToBob();

    await withoutCounting(async () => {
      expect(await listed(app, bob, conversationId)).toBe(3);
      expect(await listed(app, alice, conversationId)).toBe(0);
    });
    expect(await counterOf(bob, conversationId)).toEqual({ count: 3, valid: true });
  });

  it('answers /unread-count from the counters too, without counting messages', async () => {
    const { app, bob } = await threeToBob();

    await withoutCounting(async () => {
      const res = await client(app, bob.token).get('/unread-count');
      expect(res.body).toMatchObject({ success: true, unread_count: 3 });
    });
  });

  it('sets the reader back to 0 and trusted after a read, and counts on from there', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await conversationOf3(app, [alice, bob]);
    await send(app, alice, conversationId);
    await send(app, alice, conversationId);

    await readAll(app, bob, conversationId);
    expect(await counterOf(bob, conversationId)).toEqual({ count: 0, valid: true });
    await send(app, alice, conversationId);

    expect(await counterOf(bob, conversationId)).toEqual({ count: 1, valid: true });
    expect(await listed(app, bob, conversationId)).toBe(1);
  });

  it('stops trusting the counters after a send whose update a crash lost, and counts messages instead', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await conversationOf3(app, [alice, bob]);
    await send(app, alice, conversationId);
    await insertWithoutRecording(alice, conversationId);

    await send(app, alice, conversationId);

    // The counter itself missed the lost send; recorded_count shows that one is missing.
    expect(await counterOf(bob, conversationId)).toEqual({ count: 2, valid: true });
    const stored = await Conversation.findById(conversationId).lean();
    expect({ last_seq: stored?.last_seq, recorded_count: stored?.recorded_count }).toEqual({
      last_seq: 3,
      recorded_count: 2,
    });
    expect(await listed(app, bob, conversationId)).toBe(3);
  });

  it('records sends that complete out of order exactly: newest last_message, every message counted once', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await conversationOf3(app, [alice, bob]);
    const stored = await Conversation.findById(conversationId).lean();
    if (!stored) throw new Error('no conversation');
    const message = (seq: number): MessageRecord & { _id: Types.ObjectId } => ({
      _id: new Types.ObjectId(),
      conversation_id: stored._id,
      sender_id: new Types.ObjectId(alice.id),
      text: `message ${seq}`,
      seq,
      is_read: false,
      read_at: null,
      status: 'sent',
      deleted_at: null,
      sent_at: new Date(Date.now() + seq),
    });

    // Seq 2's update lands before seq 1's (two sends racing on different nodes).
    await recordLastMessage(stored, message(2));
    await recordLastMessage(stored, message(1));

    const after = await Conversation.findById(conversationId).lean();
    expect(after?.last_seq).toBe(2);
    expect(after?.last_message?.seq).toBe(2);
    expect(after?.last_message?.text).toBe('message 2');
    expect(after?.recorded_count).toBe(2);
    expect(await counterOf(bob, conversationId)).toEqual({ count: 2, valid: true });
    expect(await counterOf(alice, conversationId)).toEqual({ count: 0, valid: true });
  });

  it('stops trusting the counters on a deletion, and leaves the deleted message out', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await conversationOf3(app, [alice, bob]);
    await send(app, alice, conversationId);
    await send(app, alice, conversationId);
    const [first] = messagesOf(
      await client(app, alice.token).get(`/conversations/${conversationId}/messages`),
    );

    await client(app, alice.token).delete(`/conversations/${conversationId}/messages/${first._id}`);

    expect((await counterOf(bob, conversationId)).valid).toBe(false);
    expect(await listed(app, bob, conversationId)).toBe(1);
  });

  it('leaves a counter untrusted after a read of an older page only', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await conversationOf3(app, [alice, bob]);
    for (let i = 0; i < 5; i++) await send(app, alice, conversationId);

    await client(app, bob.token).get(`/conversations/${conversationId}/messages?page=2&limit=3`);

    expect((await counterOf(bob, conversationId)).valid).toBe(false);
    expect(await listed(app, bob, conversationId)).toBe(3);
  });

  it('always lists exactly the derived unread counts, whatever happens in a group', async () => {
    const { app } = buildTestApp();
    const users = await createUsers(3);
    const conversationId = await conversationOf3(app, users);
    const who = fc.integer({ min: 0, max: 2 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), who }),
      fc.record({
        kind: fc.constant('burst' as const),
        who: fc.array(who, { minLength: 2, maxLength: 6 }),
      }),
      fc.record({ kind: fc.constant('read' as const), who }),
      fc.record({ kind: fc.constant('read-old' as const), who }),
      fc.record({ kind: fc.constant('delete' as const), who }),
      fc.record({ kind: fc.constant('crash' as const), who }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        for (const step of ops) {
          if (step.kind === 'send') await send(app, users[step.who], conversationId);
          if (step.kind === 'burst') {
            await Promise.all(step.who.map((i) => send(app, users[i], conversationId)));
          }
          if (step.kind === 'read') await readAll(app, users[step.who], conversationId);
          if (step.kind === 'read-old') {
            await client(app, users[step.who].token).get(
              `/conversations/${conversationId}/messages?page=2&limit=2`,
            );
          }
          if (step.kind === 'delete') {
            const own = await Message.findOne({
              conversation_id: conversationId,
              sender_id: users[step.who].id,
              deleted_at: null,
            })
              .sort({ seq: -1 })
              .lean();
            if (own) {
              await client(app, users[step.who].token).delete(
                `/conversations/${conversationId}/messages/${own._id.toString()}`,
              );
            }
          }
          if (step.kind === 'crash') {
            // The insert commits, its update is lost; the next send repairs last_message.
            await insertWithoutRecording(users[step.who], conversationId);
            await send(app, users[(step.who + 1) % 3], conversationId);
          }
          for (const user of users) {
            expect(await listed(app, user, conversationId)).toBe(
              await derived(user, conversationId),
            );
          }
        }
      }),
      { numRuns: 15 },
    );
  });
});
