import { Types } from 'mongoose';
import { Conversation, Message } from '../../models';
import { createConversation, createUser, createUsers, type TestUser } from '../factories';
import {
  bodyOf,
  client,
  conversationOf,
  dataOf,
  eventsOf,
  expectFailure,
  ISO_DATE,
  messagesOf,
} from '../helpers/api';
import { buildTestApp } from '../helpers/app';
import type { MessageView } from '../../src/chat/types';

type App = ReturnType<typeof buildTestApp>['app'];

async function send(
  app: App,
  user: TestUser,
  conversationId: string,
  texts: string[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const text of texts) {
    const res = await client(app, user.token).post(`/conversations/${conversationId}/messages`, {
      text,
    });
    ids.push(dataOf<MessageView>(res)._id);
  }
  return ids;
}

const isDeleted = async (messageId: string): Promise<boolean> =>
  (await Message.findById(messageId).lean())?.deleted_at instanceof Date;

describe('DELETE /api/chat/conversations/:id/messages/:messageId', () => {
  it("soft-deletes the sender's message and records messageDeleted", async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const [messageId] = await send(app, alice, conversationId, ['oops']);

    const res = await client(app, alice.token).delete(
      `/conversations/${conversationId}/messages/${messageId}`,
    );

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      data: {
        _id: messageId,
        conversation_id: conversationId,
        seq: 1,
        deleted_at: expect.stringMatching(ISO_DATE),
      },
    });
    const stored = await Message.findById(messageId).lean();
    expect(stored?.deleted_at?.toISOString()).toBe(dataOf<{ deleted_at: string }>(res).deleted_at);
    expect(stored?.text).toBe('oops');
    const deleted = eventsOf(events, 'messageDeleted');
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatchObject({ conversationId, messageId, seq: 1 });
    expect(deleted[0].participantIds.sort()).toEqual([alice.id, bob.id].sort());
  });

  it('answers 403 to another participant and keeps the message', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const [messageId] = await send(app, alice, conversationId, ['mine']);

    const res = await client(app, bob.token).delete(
      `/conversations/${conversationId}/messages/${messageId}`,
    );

    expectFailure(res, 403, 'FORBIDDEN');
    expect(await isDeleted(messageId)).toBe(false);
    expect(eventsOf(events, 'messageDeleted')).toHaveLength(0);
  });

  it('answers 404 to a non-participant and keeps the message', async () => {
    const { app } = buildTestApp();
    const [alice, bob, mallory] = await createUsers(3);
    const conversationId = await createConversation([alice, bob]);
    const [messageId] = await send(app, alice, conversationId, ['mine']);

    const res = await client(app, mallory.token).delete(
      `/conversations/${conversationId}/messages/${messageId}`,
    );

    expectFailure(res, 404, 'CONVERSATION_NOT_FOUND');
    expect(await isDeleted(messageId)).toBe(false);
  });

  it('answers 404 when the message was already deleted, keeping the first deletion time', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const [messageId] = await send(app, alice, conversationId, ['twice']);
    const api = client(app, alice.token);
    await api.delete(`/conversations/${conversationId}/messages/${messageId}`);
    const firstDeletion = (await Message.findById(messageId).lean())?.deleted_at;

    const res = await api.delete(`/conversations/${conversationId}/messages/${messageId}`);

    expectFailure(res, 404, 'MESSAGE_NOT_FOUND');
    expect((await Message.findById(messageId).lean())?.deleted_at).toEqual(firstDeletion);
    expect(eventsOf(events, 'messageDeleted')).toHaveLength(1);
  });

  it('answers 404 for a message of another conversation, even one the caller sent', async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const withBob = await createConversation([alice, bob]);
    const withCarol = await createConversation([alice, carol]);
    const [messageId] = await send(app, alice, withCarol, ['elsewhere']);

    const res = await client(app, alice.token).delete(
      `/conversations/${withBob}/messages/${messageId}`,
    );

    expectFailure(res, 404, 'MESSAGE_NOT_FOUND');
    expect(await isDeleted(messageId)).toBe(false);
  });

  it('answers 404 for an unknown message id and 400 for invalid ids', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const api = client(app, alice.token);

    expectFailure(
      await api.delete(
        `/conversations/${conversationId}/messages/${new Types.ObjectId().toString()}`,
      ),
      404,
    );
    expectFailure(await api.delete(`/conversations/${conversationId}/messages/not-an-id`), 400);
    expectFailure(
      await api.delete(`/conversations/not-an-id/messages/${new Types.ObjectId().toString()}`),
      400,
    );
  });

  it('drops the message from history and unread counts, falling back to the previous live last_message', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const [, secondId, thirdId] = await send(app, alice, conversationId, ['one', 'two', 'three']);
    const bobApi = client(app, bob.token);

    await client(app, alice.token).delete(`/conversations/${conversationId}/messages/${thirdId}`);

    const view = conversationOf(await bobApi.get(`/conversations/${conversationId}`));
    expect(view.unread_count).toBe(2);
    expect(view.last_message).toMatchObject({ message_id: secondId, text: 'two', seq: 2 });
    expect(view.last_message_at).toBe(view.last_message?.sent_at);
    expect(bodyOf<{ unread_count: number }>(await bobApi.get('/unread-count')).unread_count).toBe(
      2,
    );
    const stored = await Conversation.findById(conversationId).lean();
    expect(stored?.last_message?.message_id.toString()).toBe(secondId);
    const history = messagesOf(await bobApi.get(`/conversations/${conversationId}/messages`));
    expect(history.map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('leaves last_message alone when an older message is deleted', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const [firstId, , thirdId] = await send(app, alice, conversationId, ['one', 'two', 'three']);

    await client(app, alice.token).delete(`/conversations/${conversationId}/messages/${firstId}`);

    const stored = await Conversation.findById(conversationId).lean();
    expect(stored?.last_message?.message_id.toString()).toBe(thirdId);
    expect(
      conversationOf(await client(app, bob.token).get(`/conversations/${conversationId}`))
        .unread_count,
    ).toBe(2);
  });

  it('sets last_message to null when the only message is deleted', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const [onlyId] = await send(app, alice, conversationId, ['only']);

    await client(app, alice.token).delete(`/conversations/${conversationId}/messages/${onlyId}`);

    expect((await Conversation.findById(conversationId).lean())?.last_message).toBeNull();
    const view = conversationOf(
      await client(app, bob.token).get(`/conversations/${conversationId}`),
    );
    expect(view.last_message).toBeNull();
    expect(view.last_message_at).toBeNull();
    expect(view.unread_count).toBe(0);
    expect(
      messagesOf(await client(app, bob.token).get(`/conversations/${conversationId}/messages`)),
    ).toEqual([]);
  });

  it('keeps numbering after a deletion: the next message gets the next seq', async () => {
    const { app } = buildTestApp();
    const alice = await createUser();
    const bob = await createUser();
    const conversationId = await createConversation([alice, bob]);
    const [, secondId] = await send(app, alice, conversationId, ['one', 'two']);
    await client(app, alice.token).delete(`/conversations/${conversationId}/messages/${secondId}`);

    const res = await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'three',
    });

    expect(dataOf<MessageView>(res).seq).toBe(3);
    expect((await Conversation.findById(conversationId).lean())?.last_message?.text).toBe('three');
  });
});
