import { Types } from 'mongoose';
import { Conversation, Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { createConversation, createUsers } from '../factories';
import { client, dataOf, eventsOf, expectFailure } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

/**
 * Once a change is committed (the message inserted, the delete applied), the request
 * succeeds whatever fails after it: a failure answer makes clients send again, and a
 * Horse Trust client (no client_message_id) would store its message twice.
 */
async function setUp() {
  const built = buildTestApp();
  const reported: string[] = [];
  built.chat.events.setErrorReporter((_err, context) => reported.push(context));
  const [alice, bob] = await createUsers(2);
  const conversationId = await createConversation([alice, bob]);
  return { ...built, reported, alice, bob, conversationId };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('after the commit point', () => {
  it('answers 201 when the conversation update fails, and records the message later', async () => {
    const { app, events, reported, alice, bob, conversationId } = await setUp();
    // A real write error from the database: the send's update (counters on, as
    // deleted_count says) increments recorded_count, here not a number.
    await Conversation.collection.updateOne(
      { _id: new Types.ObjectId(conversationId) },
      { $set: { deleted_count: 0, recorded_count: 'not a number' } },
    );

    const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'still delivered',
    });

    expect(res.status).toBe(201);
    const sent = dataOf<MessageView>(res);
    expect(await Message.countDocuments()).toBe(1);
    expect(eventsOf(events, 'messageCreated').map((e) => e.message._id.toString())).toEqual([
      sent._id,
    ]);
    expect(reported).toEqual([`recording message ${sent._id} on its conversation`]);
    // The background retry records it without the counter increment.
    const conversation = await until(
      () => Conversation.findById(conversationId).lean(),
      (c) => c?.last_seq === 1,
    );
    expect(conversation?.last_message?.message_id?.toString()).toBe(sent._id);
    expect(conversation?.recorded_count).toBe('not a number');
    // Bob's count comes from the messages, since the counters are not trusted.
    const unread = await client(app, bob.token).get('/unread-count');
    expect(unread.body).toMatchObject({ success: true, unread_count: 1 });
  });

  it('never records a message deleted before its delayed record lands, and keeps the newest', async () => {
    const { app, alice, conversationId } = await setUp();
    await Conversation.collection.updateOne(
      { _id: new Types.ObjectId(conversationId) },
      { $set: { deleted_count: 0, recorded_count: 'not a number' } },
    );
    const path = `/conversations/${conversationId}/messages`;
    const first = dataOf<MessageView>(await client(app, alice.token).post(path, { text: 'kept' }));
    const second = dataOf<MessageView>(
      await client(app, alice.token).post(path, { text: 'deleted at once' }),
    );
    await client(app, alice.token).delete(`${path}/${second._id}`).expect(200);

    // Both updates failed; one delayed record per conversation, for the newest message.
    const settled = await until(
      () => Conversation.findById(conversationId).lean(),
      (c) => c?.last_message?.message_id?.toString() === first._id,
    );
    expect(settled?.last_seq).toBe(2);
    expect(settled?.last_message?.text).toBe('kept');
  });

  it('answers 201 when an event listener throws, and the other listeners still run', async () => {
    const { app, chat, events, reported, alice, conversationId } = await setUp();
    chat.events.subscribe({
      messageCreated: () => {
        throw new Error('listener broke');
      },
    });
    const after: string[] = [];
    chat.events.subscribe({ messageCreated: (e) => after.push(e.message.text) });

    const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'hello',
    });

    expect(res.status).toBe(201);
    expect(after).toEqual(['hello']);
    expect(eventsOf(events, 'messageCreated')).toHaveLength(1);
    expect(reported).toEqual(['chat event listener failed: messageCreated']);
    expect((await Conversation.findById(conversationId).lean())?.last_seq).toBe(1);
  });

  it('answers a delete with success when a deletion listener throws', async () => {
    const { app, chat, reported, alice, conversationId } = await setUp();
    const sent = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'to be deleted',
    });
    chat.events.subscribe({
      messageDeleted: () => {
        throw new Error('listener broke');
      },
    });

    const res = await client(app, alice.token).delete(
      `/conversations/${conversationId}/messages/${dataOf<MessageView>(sent)._id}`,
    );

    expect(res.status).toBe(200);
    expect((await Message.findOne().lean())?.deleted_at).toBeInstanceOf(Date);
    expect((await Conversation.findById(conversationId).lean())?.last_message).toBeNull();
    expect(reported).toEqual(['chat event listener failed: messageDeleted']);
  });

  it('refuses to replay a client_message_id whose message was deleted, and stores nothing', async () => {
    const { app, events, alice, conversationId } = await setUp();
    const path = `/conversations/${conversationId}/messages`;
    const first = await client(app, alice.token).post(path, {
      text: 'oops',
      client_message_id: 'c-1',
    });
    await client(app, alice.token).delete(`${path}/${dataOf<MessageView>(first)._id}`);

    const retry = await client(app, alice.token).post(path, {
      text: 'oops',
      client_message_id: 'c-1',
    });

    expect(expectFailure(retry, 409, 'CONFLICT').message).toMatch(/deleted/);
    expect(await Message.countDocuments()).toBe(1);
    expect(eventsOf(events, 'messageCreated')).toHaveLength(1);
  });
});
