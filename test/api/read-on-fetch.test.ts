import { Conversation, Message } from '../../models';
import { createConversation, createUsers, insertMessages } from '../factories';
import { bodyOf, client, eventsOf, ISO_DATE, messagesOf, type ApiClient } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const unreadOf = async (api: ApiClient): Promise<number> =>
  bodyOf<{ unread_count: number }>(await api.get('/unread-count')).unread_count;

const readSeqs = async (conversationId: string): Promise<number[]> =>
  (
    await Message.find({ conversation_id: conversationId, is_read: true }, { seq: 1 })
      .sort({ seq: 1 })
      .lean()
  ).map((m) => m.seq);

describe('reading by fetching history (the read horizon)', () => {
  it('marks every message of the other participant read when the recipient opens page 1', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 40);
    const bobApi = client(app, bob.token);

    const res = await bobApi.get(`/conversations/${conversationId}/messages?page=1&limit=10`);

    for (const message of messagesOf(res)) {
      expect(message.is_read).toBe(true);
      expect(message.read_at).toMatch(ISO_DATE);
    }
    const stored = await Message.find({ conversation_id: conversationId }).lean();
    expect(stored.filter((m) => !m.is_read)).toHaveLength(0);
    expect(stored.every((m) => m.read_at instanceof Date)).toBe(true);
    const conversation = await Conversation.findById(conversationId).lean();
    expect(conversation?.members.find((m) => m.user_id.toString() === bob.id)?.read_seq).toBe(40);
    expect(conversation?.last_message?.is_read).toBe(true);
    expect(await unreadOf(bobApi)).toBe(0);
  });

  it('never marks messages newer than the page when only an older page is fetched', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 20);
    const bobApi = client(app, bob.token);

    const res = await bobApi.get(`/conversations/${conversationId}/messages?page=2&limit=10`);

    expect(messagesOf(res).map((m) => [m.seq, m.is_read])).toEqual(
      Array.from({ length: 10 }, (_, i) => [i + 1, true]),
    );
    expect(await readSeqs(conversationId)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(
      await Message.countDocuments({
        conversation_id: conversationId,
        seq: { $gt: 10 },
        read_at: { $ne: null },
      }),
    ).toBe(0);
    expect(await unreadOf(bobApi)).toBe(10);
    expect((await Conversation.findById(conversationId).lean())?.last_message?.is_read).toBe(false);
  });

  it('does not move the horizon back when an older page is fetched after page 1', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 20);
    const bobApi = client(app, bob.token);

    await bobApi.get(`/conversations/${conversationId}/messages?page=1&limit=10`);
    await bobApi.get(`/conversations/${conversationId}/messages?page=2&limit=10`);

    const conversation = await Conversation.findById(conversationId).lean();
    expect(conversation?.members.find((m) => m.user_id.toString() === bob.id)?.read_seq).toBe(20);
    expect(await unreadOf(bobApi)).toBe(0);
  });

  it("never marks the caller's own messages read by the caller's fetch", async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 3);

    const res = await client(app, alice.token).get(`/conversations/${conversationId}/messages`);

    expect(messagesOf(res).map((m) => [m.is_read, m.read_at])).toEqual([
      [false, null],
      [false, null],
      [false, null],
    ]);
    expect(await Message.countDocuments({ is_read: true })).toBe(0);
    expect(await Message.countDocuments({ read_at: { $ne: null } })).toBe(0);
    expect(await unreadOf(client(app, bob.token))).toBe(3);
    // Alice's own horizon may advance, but no event ever claims Bob read anything.
    expect(eventsOf(events, 'messagesRead').every((e) => e.readerId === alice.id)).toBe(true);
  });

  it("marks only the other participant's messages in a conversation both wrote in", async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice, bob], 6);

    const res = await client(app, bob.token).get(`/conversations/${conversationId}/messages`);

    expect(messagesOf(res).map((m) => m.is_read)).toEqual([true, false, true, false, true, false]);
    expect(await readSeqs(conversationId)).toEqual([1, 3, 5]);
    expect(await unreadOf(client(app, alice.token))).toBe(3);
  });

  it('records messagesRead once, and not again on a repeat fetch', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const ids = await insertMessages(conversationId, [alice], 5);
    const bobApi = client(app, bob.token);

    await bobApi.get(`/conversations/${conversationId}/messages`);
    const repeat = await bobApi.get(`/conversations/${conversationId}/messages`);

    const reads = eventsOf(events, 'messagesRead');
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      conversationId,
      readerId: bob.id,
      upToSeq: 5,
      upToMessageId: ids[4],
    });
    expect(reads[0].participantIds.sort()).toEqual([alice.id, bob.id].sort());
    expect(reads[0].readAt).toBeInstanceOf(Date);
    expect(messagesOf(repeat).every((m) => m.is_read)).toBe(true);
  });

  it('leaves a message that arrives after the fetch unread', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 2);
    const bobApi = client(app, bob.token);

    await bobApi.get(`/conversations/${conversationId}/messages`);
    await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'one more thing',
    });

    expect(await Message.countDocuments({ conversation_id: conversationId, is_read: false })).toBe(
      1,
    );
    expect(await unreadOf(bobApi)).toBe(1);
  });

  it("in a group, one member's fetch clears only that member's unread count", async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const conversationId = await createConversation([alice, bob, carol]);
    await insertMessages(conversationId, [alice], 4);

    await client(app, bob.token).get(`/conversations/${conversationId}/messages`);

    expect(await unreadOf(client(app, bob.token))).toBe(0);
    expect(await unreadOf(client(app, carol.token))).toBe(4);
    expect(await unreadOf(client(app, alice.token))).toBe(0);
  });
});
