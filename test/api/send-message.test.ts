import mongoose, { Types } from 'mongoose';
import type { Response } from 'supertest';
import { Conversation, Message } from '../../models';
import { createConversation, createUser, createUsers } from '../factories';
import {
  bodyOf,
  client,
  conversationOf,
  dataOf,
  eventsOf,
  expectFailure,
  ISO_DATE,
} from '../helpers/api';
import { buildTestApp } from '../helpers/app';
import type { MessageView } from '../../src/chat/types';

const sentOf = (res: Response): MessageView => dataOf<MessageView>(res);

async function pair() {
  const [alice, bob] = await createUsers(2);
  const conversationId = await createConversation([alice, bob]);
  return { alice, bob, conversationId };
}

describe('POST /api/chat/conversations/:id/messages', () => {
  it('answers 201 with the message exactly as the Horse Trust document shows it', async () => {
    const { app } = buildTestApp();
    const { alice, conversationId } = await pair();

    const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'Yes, I would love to schedule a visit!',
    });

    expect(res.status).toBe(201);
    expect(bodyOf<{ success: boolean }>(res).success).toBe(true);
    expect(sentOf(res)).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      conversation_id: conversationId,
      sender_id: alice.id,
      text: 'Yes, I would love to schedule a visit!',
      is_read: false,
      read_at: null,
      sent_at: expect.stringMatching(ISO_DATE),
      seq: 1,
      status: 'sent',
    });
    const stored = await Message.findById(sentOf(res)._id).lean();
    expect(stored).toMatchObject({
      text: 'Yes, I would love to schedule a visit!',
      is_read: false,
      read_at: null,
      seq: 1,
      status: 'sent',
      delivered_at: null,
    });
    expect(stored?.sender_id.toString()).toBe(alice.id);
    expect(stored?.conversation_id.toString()).toBe(conversationId);
    expect(stored?.sent_at.toISOString()).toBe(sentOf(res).sent_at);
  });

  it('trims the text before storing it', async () => {
    const { app } = buildTestApp();
    const { alice, conversationId } = await pair();

    const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: '\n  hello there \t ',
    });

    expect(sentOf(res).text).toBe('hello there');
    expect((await Message.findOne().lean())?.text).toBe('hello there');
  });

  it.each<[string, string]>([
    ['exactly 2000 characters', 'a'.repeat(2000)],
    ['2000 characters once surrounding whitespace is trimmed', `   ${'b'.repeat(2000)}   `],
  ])('accepts %s', async (_case, text) => {
    const { app } = buildTestApp();
    const { alice, conversationId } = await pair();

    const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text,
    });

    expect(res.status).toBe(201);
    expect((await Message.findOne().lean())?.text).toHaveLength(2000);
  });

  it.each<[string, object]>([
    ['empty text', { text: '' }],
    ['whitespace-only text', { text: ' \n\t ' }],
    ['2001 characters', { text: 'a'.repeat(2001) }],
    ['a number', { text: 42 }],
    ['a boolean', { text: true }],
    ['null', { text: null }],
    ['an object', { text: { value: 'hi' } }],
    ['an array', { text: ['hi'] }],
    ['an empty array', { text: [] }],
    ['an operator object {"$ne": null}', { text: { $ne: null } }],
    ['no text at all', { message: 'hi' }],
    ['an invalid client_message_id', { text: 'hi', client_message_id: 'has spaces in it' }],
    ['a client_message_id object', { text: 'hi', client_message_id: { $gt: '' } }],
  ])('answers 400 for %s and stores nothing', async (_case, body) => {
    const { app, events } = buildTestApp();
    const { alice, conversationId } = await pair();

    const res = await client(app, alice.token).post(
      `/conversations/${conversationId}/messages`,
      body,
    );

    expectFailure(res, 400, 'VALIDATION_FAILED');
    expect(await Message.countDocuments()).toBe(0);
    expect((await Conversation.findById(conversationId).lean())?.last_message).toBeNull();
    expect(events).toEqual([]);
  });

  it('ignores sender_id, is_read, _id, seq and other server-owned fields in the body', async () => {
    const { app } = buildTestApp();
    const { alice, bob, conversationId } = await pair();
    const forgedId = new Types.ObjectId().toString();

    const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'honest message',
      sender_id: bob.id,
      is_read: true,
      read_at: '2020-01-01T00:00:00.000Z',
      _id: forgedId,
      seq: 99,
      deleted_at: '2020-01-01T00:00:00.000Z',
      conversation_id: new Types.ObjectId().toString(),
    });

    expect(res.status).toBe(201);
    expect(sentOf(res)).toMatchObject({
      sender_id: alice.id,
      is_read: false,
      seq: 1,
      conversation_id: conversationId,
    });
    expect(sentOf(res)._id).not.toBe(forgedId);
    const [stored] = await Message.find().lean();
    expect(stored.sender_id.toString()).toBe(alice.id);
    expect(stored).toMatchObject({ is_read: false, read_at: null, deleted_at: null, seq: 1 });
    expect(stored._id.toString()).not.toBe(forgedId);
    expect(stored.conversation_id.toString()).toBe(conversationId);
  });

  it('refuses an image or location message (message_type, media_url) as socket sends are refused; empty or "text" is a text message', async () => {
    const { app, events } = buildTestApp();
    const { alice, conversationId } = await pair();
    const send = (extra: Record<string, unknown>) =>
      client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
        text: 'look at him',
        ...extra,
      });

    for (const extra of [
      { message_type: 'image', media_url: 'https://x.test/h.jpg' },
      { message_type: 'location' },
      { media_url: 'https://x.test/h.jpg' },
      { message_type: { $ne: 'text' } },
    ]) {
      const res = await send(extra);
      expectFailure(res, 400, 'VALIDATION_FAILED');
    }
    expect(await Message.countDocuments()).toBe(0);
    expect(eventsOf(events, 'messageCreated')).toEqual([]);

    expect((await send({ message_type: 'text', media_url: '' })).status).toBe(201);
    expect((await send({ message_type: '', media_url: null })).status).toBe(201);
    expect(await Message.countDocuments()).toBe(2);
  });

  it('answers 404 to a non-participant and stores nothing', async () => {
    const { app, events } = buildTestApp();
    const { conversationId } = await pair();
    const mallory = await createUser();

    const res = await client(app, mallory.token).post(`/conversations/${conversationId}/messages`, {
      text: 'let me in',
    });

    expectFailure(res, 404, 'CONVERSATION_NOT_FOUND');
    expect(await Message.countDocuments()).toBe(0);
    expect(events).toEqual([]);
  });

  it('answers 404 for a conversation that does not exist and 400 for an invalid id', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();
    const api = client(app, alice.token);

    expectFailure(
      await api.post(`/conversations/${new Types.ObjectId().toString()}/messages`, { text: 'x' }),
      404,
    );
    expectFailure(await api.post('/conversations/abc/messages', { text: 'x' }), 400);
    expect(await Message.countDocuments()).toBe(0);
  });

  it("updates the conversation's last_message and the other participant's unread count", async () => {
    const { app } = buildTestApp();
    const { alice, bob, conversationId } = await pair();
    const aliceApi = client(app, alice.token);

    await aliceApi.post(`/conversations/${conversationId}/messages`, { text: 'first' });
    const second = await aliceApi.post(`/conversations/${conversationId}/messages`, {
      text: 'second',
    });

    const stored = await Conversation.findById(conversationId).lean();
    expect(stored?.last_message).toMatchObject({ text: 'second', seq: 2, is_read: false });
    expect(stored?.last_message?.message_id.toString()).toBe(sentOf(second)._id);
    expect(stored?.last_message?.sender_id.toString()).toBe(alice.id);
    expect(stored?.last_seq).toBe(2);
    const forBob = conversationOf(
      await client(app, bob.token).get(`/conversations/${conversationId}`),
    );
    expect(forBob.last_message).toMatchObject({
      message_id: sentOf(second)._id,
      text: 'second',
      sender_id: alice.id,
    });
    expect(forBob.unread_count).toBe(2);
    expect(
      conversationOf(await aliceApi.get(`/conversations/${conversationId}`)).unread_count,
    ).toBe(0);
    expect(
      bodyOf<{ unread_count: number }>(await client(app, bob.token).get('/unread-count'))
        .unread_count,
    ).toBe(2);
  });

  it('records a messageCreated event with the message and the sender profile', async () => {
    const { app, events } = buildTestApp();
    const { alice, bob, conversationId } = await pair();

    const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'ping',
    });

    const created = eventsOf(events, 'messageCreated');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      conversationId,
      sender: { _id: alice.id, full_name: alice.full_name },
      message: { text: 'ping', seq: 1 },
    });
    expect(created[0].message._id.toString()).toBe(sentOf(res)._id);
    expect(created[0].participantIds.sort()).toEqual([alice.id, bob.id].sort());
  });

  it('announces the message before it issues the conversation update', async () => {
    const { app, chat } = buildTestApp();
    const { alice, conversationId } = await pair();
    const steps: string[] = [];
    chat.events.subscribe({ messageCreated: () => steps.push('messageCreated') });
    // Mongoose reports each collection call as it is made, the driver-level ones included.
    mongoose.set('debug', (collection: string, method: string) => {
      if (collection === 'conversations' || collection === 'messages') {
        steps.push(`${collection}.${method}`);
      }
    });
    try {
      const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
        text: 'ping',
      });
      expect(res.status).toBe(201);
    } finally {
      mongoose.set('debug', false);
    }

    // The update is not on the recipient's path: delivery waits for the insert only.
    const fromInsert = steps.slice(steps.indexOf('messages.insertOne'));
    expect(fromInsert).toEqual(['messages.insertOne', 'messageCreated', 'conversations.updateOne']);
    // ...and the sender's answer still waited for it.
    expect((await Conversation.findById(conversationId).lean())?.last_seq).toBe(1);
  });

  it('numbers messages 1, 2, 3 across senders', async () => {
    const { app } = buildTestApp();
    const { alice, bob, conversationId } = await pair();

    const seqs: number[] = [];
    for (const user of [alice, bob, alice]) {
      seqs.push(
        sentOf(
          await client(app, user.token).post(`/conversations/${conversationId}/messages`, {
            text: 'x',
          }),
        ).seq,
      );
    }

    expect(seqs).toEqual([1, 2, 3]);
    expect((await Message.find().sort({ seq: 1 }).lean()).map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('gives concurrent sends distinct, gapless seqs', async () => {
    const { app } = buildTestApp();
    const { alice, conversationId } = await pair();
    const api = client(app, alice.token);

    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.post(`/conversations/${conversationId}/messages`, { text: `m${i}` }),
      ),
    );

    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect((await Message.find().sort({ seq: 1 }).lean()).map((m) => m.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect((await Conversation.findById(conversationId).lean())?.last_message?.seq).toBe(10);
  });

  it('answers a repeated client_message_id with 200 and the original message, storing one', async () => {
    const { app, events } = buildTestApp();
    const { alice, conversationId } = await pair();
    const api = client(app, alice.token);
    const body = { text: 'exactly once', client_message_id: 'c0ffee-1' };

    const first = await api.post(`/conversations/${conversationId}/messages`, body);
    const retry = await api.post(`/conversations/${conversationId}/messages`, body);

    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(sentOf(retry)._id).toBe(sentOf(first)._id);
    expect(sentOf(retry).client_message_id).toBe('c0ffee-1');
    expect(await Message.countDocuments()).toBe(1);
    expect(eventsOf(events, 'messageCreated')).toHaveLength(1);
  });
});
