import type { Response } from 'supertest';
import { Conversation, Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { createConversation, createUsers } from '../factories';
import { client, dataOf, eventsOf } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sentOf = (res: Response): MessageView => dataOf<MessageView>(res);
const ascending = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

async function storedSeqs(conversationId: string): Promise<number[]> {
  const rows = await Message.find({ conversation_id: conversationId }).sort({ seq: 1 }).lean();
  return rows.map((m) => m.seq);
}

describe('per-conversation seq under concurrent REST sends', () => {
  it('gives 20 concurrent senders in one group seqs exactly 1..20, with no gap or repeat', async () => {
    const { app, events } = buildTestApp();
    const users = await createUsers(20);
    const conversationId = await createConversation(users);

    const responses = await Promise.all(
      users.map((u, i) =>
        client(app, u.token).post(`/conversations/${conversationId}/messages`, {
          text: `from ${i}`,
        }),
      ),
    );

    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(ascending(responses.map((r) => sentOf(r).seq))).toEqual(range(1, 20));
    expect(await storedSeqs(conversationId)).toEqual(range(1, 20));
    // Each sender got the seq its own message was stored with.
    const stored = await Message.find({ conversation_id: conversationId }).lean();
    const seqById = new Map(stored.map((m) => [m._id.toString(), m.seq]));
    for (const res of responses) expect(seqById.get(sentOf(res)._id)).toBe(sentOf(res).seq);
    expect(new Set(stored.map((m) => m.sender_id.toString())).size).toBe(20);
    expect(ascending(eventsOf(events, 'messageCreated').map((e) => e.message.seq))).toEqual(
      range(1, 20),
    );
  });

  it('leaves last_seq at 20 and last_message on the seq-20 message after 20 concurrent senders', async () => {
    const { app } = buildTestApp();
    const users = await createUsers(20);
    const conversationId = await createConversation(users);

    const responses = await Promise.all(
      users.map((u, i) =>
        client(app, u.token).post(`/conversations/${conversationId}/messages`, {
          text: `from ${i}`,
        }),
      ),
    );

    const newest = responses.map(sentOf).find((m) => m.seq === 20);
    const conversation = await Conversation.findById(conversationId).lean();
    expect(conversation?.last_seq).toBe(20);
    expect(conversation?.last_message).toMatchObject({ seq: 20, text: newest?.text });
    expect(conversation?.last_message?.message_id.toString()).toBe(newest?._id);
    expect(conversation?.last_message?.sender_id.toString()).toBe(newest?.sender_id);
  });

  it('gives one sender doing 30 concurrent sends seqs exactly 1..30', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const api = client(app, alice.token);

    const responses = await Promise.all(
      range(1, 30).map((i) =>
        api.post(`/conversations/${conversationId}/messages`, { text: `burst ${i}` }),
      ),
    );

    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(201));
    expect(ascending(responses.map((r) => sentOf(r).seq))).toEqual(range(1, 30));
    expect(await storedSeqs(conversationId)).toEqual(range(1, 30));
    const conversation = await Conversation.findById(conversationId).lean();
    expect(conversation?.last_seq).toBe(30);
    expect(conversation?.last_message?.seq).toBe(30);
  });

  it('continues gaplessly after existing messages and keeps conversations independent', async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const withBob = await createConversation([alice, bob]);
    const withCarol = await createConversation([alice, carol]);
    const api = client(app, alice.token);
    await api.post(`/conversations/${withBob}/messages`, { text: 'first' });

    await Promise.all(
      range(1, 10).flatMap((i) => [
        api.post(`/conversations/${withBob}/messages`, { text: `bob ${i}` }),
        api.post(`/conversations/${withCarol}/messages`, { text: `carol ${i}` }),
      ]),
    );

    expect(await storedSeqs(withBob)).toEqual(range(1, 11));
    expect(await storedSeqs(withCarol)).toEqual(range(1, 10));
  });

  it('lists concurrent sends in history as 1..N, each message once', async () => {
    const { app } = buildTestApp();
    const users = await createUsers(5);
    const conversationId = await createConversation(users);
    await Promise.all(
      users.flatMap((u) =>
        range(1, 4).map((i) =>
          client(app, u.token).post(`/conversations/${conversationId}/messages`, {
            text: `${u.id}-${i}`,
          }),
        ),
      ),
    );

    const res = await client(app, users[0].token).get(
      `/conversations/${conversationId}/messages?limit=100`,
    );

    expect(res.status).toBe(200);
    const history = dataOf<MessageView[]>(res);
    expect(history.map((m) => m.seq)).toEqual(range(1, 20));
    expect(new Set(history.map((m) => m.text)).size).toBe(20);
  });
});
