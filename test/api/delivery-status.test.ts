import type { Response } from 'supertest';
import { Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { createConversation, createUsers, insertMessages, type TestUser } from '../factories';
import { client, dataOf, eventsOf, ISO_DATE, messagesOf } from '../helpers/api';
import { buildTestApp } from '../helpers/app';
import { cursorNow, sendAs, settle, sync } from '../helpers/sync';

const sentOf = (res: Response): MessageView => dataOf<MessageView>(res);

async function pair(): Promise<{ alice: TestUser; bob: TestUser; conversationId: string }> {
  const [alice, bob] = await createUsers(2);
  return { alice, bob, conversationId: await createConversation([alice, bob]) };
}

describe('message status: sent → delivered → read', () => {
  it('moves a message to read, with is_read and read_at, when the recipient fetches history', async () => {
    const { app, events } = buildTestApp();
    const { alice, bob, conversationId } = await pair();
    const sent = sentOf(
      await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
        text: 'hi',
      }),
    );

    const res = await client(app, bob.token).get(`/conversations/${conversationId}/messages`);

    expect(res.status).toBe(200);
    const [seen] = messagesOf(res);
    expect(seen).toMatchObject({
      _id: sent._id,
      status: 'read',
      is_read: true,
      read_at: expect.stringMatching(ISO_DATE),
    });
    const stored = await Message.findById(sent._id).lean();
    expect(stored).toMatchObject({ status: 'read', is_read: true });
    expect(stored?.read_at?.toISOString()).toBe(seen.read_at);
    expect(eventsOf(events, 'messagesRead').map((e) => [e.readerId, e.upToSeq])).toEqual([
      [bob.id, 1],
    ]);
  });

  it('leaves a message sent when only its own sender fetches history', async () => {
    const { app, events } = buildTestApp();
    const { alice, conversationId } = await pair();
    const sent = sentOf(
      await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
        text: 'mine',
      }),
    );

    const res = await client(app, alice.token).get(`/conversations/${conversationId}/messages`);

    expect(messagesOf(res)).toEqual([
      expect.objectContaining({ _id: sent._id, status: 'sent', is_read: false, read_at: null }),
    ]);
    expect(await Message.findById(sent._id).lean()).toMatchObject({
      status: 'sent',
      is_read: false,
    });
    expect(eventsOf(events, 'messagesRead')).toEqual([]);
  });

  it("goes sent → delivered on the recipient's sync → read on its history fetch, with one event each", async () => {
    const { app, events } = buildTestApp();
    const { alice, bob, conversationId } = await pair();
    const bobApi = client(app, bob.token);
    const cursor = await cursorNow(bobApi);
    const sent = await sendAs(app, alice, conversationId, 'ping');
    await settle();

    const synced = await sync(bobApi, cursor);
    const delivered = await Message.findById(sent._id).lean();
    await bobApi.get(`/conversations/${conversationId}/messages`);
    const read = await Message.findById(sent._id).lean();

    expect(synced.messages.map((m) => [m._id, m.status, m.is_read])).toEqual([
      [sent._id, 'delivered', false],
    ]);
    expect(delivered).toMatchObject({ status: 'delivered', is_read: false, read_at: null });
    expect(delivered?.delivered_at).toBeInstanceOf(Date);
    expect(read).toMatchObject({ status: 'read', is_read: true });
    expect(read?.read_at).toBeInstanceOf(Date);
    expect(read?.delivered_at?.getTime()).toBe(delivered?.delivered_at?.getTime());
    expect(eventsOf(events, 'messageDelivered')).toEqual([
      expect.objectContaining({
        messageId: sent._id,
        seq: 1,
        senderId: alice.id,
        recipientId: bob.id,
        conversationId,
      }),
    ]);
    expect(events.map((e) => e.type)).toEqual([
      'messageCreated',
      'messageDelivered',
      'messagesRead',
    ]);
  });

  it('answers a replayed send with the original in its current status', async () => {
    const { app } = buildTestApp();
    const { alice, bob, conversationId } = await pair();
    const api = client(app, alice.token);
    const body = { text: 'once', client_message_id: 'status-replay' };
    const first = await api.post(`/conversations/${conversationId}/messages`, body);
    await client(app, bob.token).get(`/conversations/${conversationId}/messages`);

    const replay = await api.post(`/conversations/${conversationId}/messages`, body);

    expect(sentOf(first).status).toBe('sent');
    expect(replay.status).toBe(200);
    expect(sentOf(replay)).toMatchObject({ _id: sentOf(first)._id, status: 'read', is_read: true });
  });

  it("acknowledges up to a seq past 500 of the acknowledger's own messages", async () => {
    const { chat, events } = buildTestApp();
    const { alice, bob, conversationId } = await pair();
    await insertMessages(conversationId, [alice], 520);
    const [fromBob] = await insertMessages(conversationId, [bob], 1);

    const delivered = await chat.deliveries.acknowledge(alice.actor, conversationId, {
      upToSeq: 521,
    });

    expect(delivered).toEqual([fromBob]);
    expect((await Message.findById(fromBob).lean())?.status).toBe('delivered');
    expect(eventsOf(events, 'messageDelivered').map((e) => e.messageId)).toEqual([fromBob]);
  });

  it('announces each delivery once, and none after a read, when another acknowledgement or a read gets there first', async () => {
    const { chat, events } = buildTestApp();
    const { alice, bob, conversationId } = await pair();
    const [first, second, third] = await insertMessages(conversationId, [alice], 3);
    // Between this acknowledgement's read of its candidates and its update, bob's
    // other device acknowledges the first message and a read reaches the second.
    const update = Message.updateMany.bind(Message);
    let raced = false;
    const spy = jest.spyOn(Message, 'updateMany').mockImplementation(((
      ...args: Parameters<typeof Message.updateMany>
    ) => {
      if (raced) return update(...args);
      raced = true;
      return (async () => {
        await chat.deliveries.acknowledge(bob.actor, conversationId, { messageIds: [first] });
        await Message.updateOne({ _id: second }, { status: 'read', is_read: true });
        return update(...args);
      })();
    }) as unknown as typeof Message.updateMany);

    let delivered: string[];
    try {
      delivered = await chat.deliveries.acknowledge(bob.actor, conversationId, { upToSeq: 3 });
    } finally {
      spy.mockRestore();
    }

    expect(raced).toBe(true);
    expect(delivered).toEqual([third]);
    expect(eventsOf(events, 'messageDelivered').map((e) => e.messageId)).toEqual([first, third]);
    const stored = await Message.find({ conversation_id: conversationId }).sort({ seq: 1 }).lean();
    expect(stored.map((m) => m.status)).toEqual(['delivered', 'read', 'delivered']);
  });
});
