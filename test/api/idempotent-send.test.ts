import type { Response } from 'supertest';
import { Conversation, Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { createConversation, createUsers, type TestUser } from '../factories';
import { client, dataOf, eventsOf, expectFailure } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const sentOf = (res: Response): MessageView => dataOf<MessageView>(res);

async function pair(): Promise<{ alice: TestUser; bob: TestUser; conversationId: string }> {
  const [alice, bob] = await createUsers(2);
  return { alice, bob, conversationId: await createConversation([alice, bob]) };
}

async function storedSeqs(conversationId: string): Promise<number[]> {
  const rows = await Message.find({ conversation_id: conversationId }).sort({ seq: 1 }).lean();
  return rows.map((m) => m.seq);
}

describe('POST /api/chat/conversations/:id/messages with client_message_id', () => {
  it('stores one message for 10 concurrent sends of one id: one 201, nine 200, one _id, one event', async () => {
    const { app, events } = buildTestApp();
    const { alice, conversationId } = await pair();
    const api = client(app, alice.token);
    const body = { text: 'exactly once', client_message_id: 'retry-storm-1' };

    const responses = await Promise.all(
      Array.from({ length: 10 }, () => api.post(`/conversations/${conversationId}/messages`, body)),
    );

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(9);
    const ids = new Set(responses.map((r) => sentOf(r)._id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    for (const res of responses) {
      expect(sentOf(res)).toMatchObject({
        _id: id,
        seq: 1,
        text: 'exactly once',
        client_message_id: 'retry-storm-1',
      });
    }
    const stored = await Message.find({ conversation_id: conversationId }).lean();
    expect(stored.map((m) => m._id.toString())).toEqual([id]);
    expect(stored[0]).toMatchObject({
      seq: 1,
      client_message_id: 'retry-storm-1',
      dedupe_key: `${alice.id}:retry-storm-1`,
    });
    const created = eventsOf(events, 'messageCreated');
    expect(created).toHaveLength(1);
    expect(created[0].message._id.toString()).toBe(id);
  });

  it('answers a later retry with the original message and ignores the text of the retry', async () => {
    const { app, events } = buildTestApp();
    const { alice, conversationId } = await pair();
    const api = client(app, alice.token);
    const first = await api.post(`/conversations/${conversationId}/messages`, {
      text: 'original',
      client_message_id: 'abc-1',
    });

    const retry = await api.post(`/conversations/${conversationId}/messages`, {
      text: 'edited on retry',
      client_message_id: 'abc-1',
    });

    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(sentOf(retry)).toEqual(sentOf(first));
    expect(sentOf(retry).text).toBe('original');
    const stored = await Message.find({ conversation_id: conversationId }).lean();
    expect(stored.map((m) => m.text)).toEqual(['original']);
    expect(eventsOf(events, 'messageCreated')).toHaveLength(1);
  });

  it('treats the same client_message_id from a different sender as a different message', async () => {
    const { app, events } = buildTestApp();
    const { alice, bob, conversationId } = await pair();
    const body = { text: 'hello', client_message_id: 'shared-id' };

    const fromAlice = await client(app, alice.token).post(
      `/conversations/${conversationId}/messages`,
      body,
    );
    const fromBob = await client(app, bob.token).post(
      `/conversations/${conversationId}/messages`,
      body,
    );

    expect([fromAlice.status, fromBob.status]).toEqual([201, 201]);
    expect(sentOf(fromAlice)._id).not.toBe(sentOf(fromBob)._id);
    expect([sentOf(fromAlice).sender_id, sentOf(fromBob).sender_id]).toEqual([alice.id, bob.id]);
    expect(await storedSeqs(conversationId)).toEqual([1, 2]);
    expect(eventsOf(events, 'messageCreated')).toHaveLength(2);
  });

  it('answers 409 when a sender reuses a client_message_id in another conversation, storing nothing there', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const first = await createConversation([alice, bob]);
    const second = await createConversation([alice, carol]);
    const api = client(app, alice.token);
    const original = await api.post(`/conversations/${first}/messages`, {
      text: 'to bob',
      client_message_id: 'reused',
    });

    const res = await api.post(`/conversations/${second}/messages`, {
      text: 'to carol',
      client_message_id: 'reused',
    });

    expect(original.status).toBe(201);
    expectFailure(res, 409, 'CONFLICT');
    expect(await Message.countDocuments({ conversation_id: second })).toBe(0);
    expect(await Message.countDocuments({ conversation_id: first })).toBe(1);
    expect((await Conversation.findById(second).lean())?.last_seq).toBe(0);
    expect(eventsOf(events, 'messageCreated').map((e) => e.conversationId)).toEqual([first]);
  });

  it.each([
    ['containing spaces', 'has spaces in it'],
    ['of 101 characters', 'x'.repeat(101)],
    ['given as an object', { $gt: '' }],
    ['given as a number', 42],
    ['given as an empty string', ''],
  ])(
    'answers 400 for a client_message_id %s and stores nothing',
    async (_case, clientMessageId) => {
      const { app, events } = buildTestApp();
      const { alice, conversationId } = await pair();

      const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
        text: 'hi',
        client_message_id: clientMessageId,
      });

      const body = expectFailure(res, 400, 'VALIDATION_FAILED');
      expect(body.errors?.map((e) => e.field)).toContain('client_message_id');
      expect(await Message.countDocuments()).toBe(0);
      expect((await Conversation.findById(conversationId).lean())?.last_seq).toBe(0);
      expect(events).toEqual([]);
    },
  );

  it('accepts a client_message_id of exactly 100 allowed characters', async () => {
    const { app } = buildTestApp();
    const { alice, conversationId } = await pair();
    const id = `${'a'.repeat(96)}-_.:`;

    const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'hi',
      client_message_id: id,
    });

    expect(res.status).toBe(201);
    expect(sentOf(res).client_message_id).toBe(id);
    expect(await Message.countDocuments({ client_message_id: id })).toBe(1);
  });

  it('burns no seq on duplicates: the next ordinary send after a retry storm gets seq 2', async () => {
    const { app, events } = buildTestApp();
    const { alice, conversationId } = await pair();
    const api = client(app, alice.token);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        api.post(`/conversations/${conversationId}/messages`, {
          text: 'once',
          client_message_id: 'storm',
        }),
      ),
    );

    const next = await api.post(`/conversations/${conversationId}/messages`, { text: 'next' });

    expect(next.status).toBe(201);
    expect(sentOf(next).seq).toBe(2);
    expect(await storedSeqs(conversationId)).toEqual([1, 2]);
    const conversation = await Conversation.findById(conversationId).lean();
    expect(conversation?.last_seq).toBe(2);
    expect(conversation?.last_message?.text).toBe('next');
    expect(eventsOf(events, 'messageCreated').map((e) => e.message.seq)).toEqual([1, 2]);
  });
});
