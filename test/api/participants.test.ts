import { Types } from 'mongoose';
import { Conversation } from '../../models';
import { createConversation, createUser, createUsers, insertMessages } from '../factories';
import { bodyOf, client, conversationOf, eventsOf, expectFailure } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const participantsOf = async (conversationId: string): Promise<string[]> => {
  const stored = await Conversation.findById(conversationId).lean();
  return (stored?.participants ?? []).map(String).sort();
};

describe('POST /api/chat/conversations/:id/participants', () => {
  it('adds a user who starts with nothing unread, and records participantsChanged', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice, bob], 4);

    const res = await client(app, bob.token).post(`/conversations/${conversationId}/participants`, {
      user_id: carol.id,
    });

    expect(res.status).toBe(200);
    expect(
      conversationOf(res)
        .participants.map((p) => p._id)
        .sort(),
    ).toEqual([alice.id, bob.id, carol.id].sort());
    expect(await participantsOf(conversationId)).toEqual([alice.id, bob.id, carol.id].sort());
    const stored = await Conversation.findById(conversationId).lean();
    expect(stored?.members.find((m) => m.user_id.toString() === carol.id)?.read_seq).toBe(4);
    const carolApi = client(app, carol.token);
    expect(
      conversationOf(await carolApi.get(`/conversations/${conversationId}`)).unread_count,
    ).toBe(0);
    expect(bodyOf<{ unread_count: number }>(await carolApi.get('/unread-count')).unread_count).toBe(
      0,
    );
    expect(eventsOf(events, 'participantsChanged')).toEqual([
      expect.objectContaining({ conversationId, added: [carol.id], removed: [] }),
    ]);
  });

  it('counts messages sent after joining as unread for the new member', async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const conversationId = await createConversation([alice, bob]);
    await insertMessages(conversationId, [alice], 3);
    await client(app, alice.token).post(`/conversations/${conversationId}/participants`, {
      user_ids: [carol.id],
    });

    await client(app, alice.token).post(`/conversations/${conversationId}/messages`, {
      text: 'welcome carol',
    });

    expect(
      bodyOf<{ unread_count: number }>(await client(app, carol.token).get('/unread-count'))
        .unread_count,
    ).toBe(1);
  });

  it('answers 200 without change when the user is already a participant', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);

    const res = await client(app, alice.token).post(
      `/conversations/${conversationId}/participants`,
      { user_id: bob.id },
    );

    expect(res.status).toBe(200);
    expect(await participantsOf(conversationId)).toEqual([alice.id, bob.id].sort());
    expect(eventsOf(events, 'participantsChanged')).toEqual([]);
  });

  it('answers 404 for an unknown user and changes nothing', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);

    const res = await client(app, alice.token).post(
      `/conversations/${conversationId}/participants`,
      {
        user_id: new Types.ObjectId().toString(),
      },
    );

    expectFailure(res, 404, 'USER_NOT_FOUND');
    expect(await participantsOf(conversationId)).toEqual([alice.id, bob.id].sort());
  });

  it('answers 404 to a non-participant trying to add someone', async () => {
    const { app } = buildTestApp();
    const [alice, bob, mallory] = await createUsers(3);
    const conversationId = await createConversation([alice, bob]);

    const res = await client(app, mallory.token).post(
      `/conversations/${conversationId}/participants`,
      { user_id: mallory.id },
    );

    expectFailure(res, 404, 'CONVERSATION_NOT_FOUND');
    expect(await participantsOf(conversationId)).toEqual([alice.id, bob.id].sort());
  });

  it.each<[string, object]>([
    ['no user_id or user_ids', {}],
    ['an invalid user_id', { user_id: 'nope' }],
    ['an operator object as user_id', { user_id: { $ne: null } }],
    ['an invalid entry in user_ids', { user_ids: ['nope'] }],
  ])('answers 400 for %s', async (_case, body) => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);

    const res = await client(app, alice.token).post(
      `/conversations/${conversationId}/participants`,
      body,
    );

    expectFailure(res, 400);
    expect(await participantsOf(conversationId)).toEqual([alice.id, bob.id].sort());
  });

  it('adds everyone when members add different people at the same moment (no 409 to retry by hand)', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob, ...newcomers] = await createUsers(6);
    const conversationId = await createConversation([alice, bob]);

    const answers = await Promise.all(
      newcomers.map((user, i) =>
        client(app, (i % 2 ? alice : bob).token).post(
          `/conversations/${conversationId}/participants`,
          { user_id: user.id },
        ),
      ),
    );

    expect(answers.map((res) => res.status)).toEqual(newcomers.map(() => 200));
    expect(await participantsOf(conversationId)).toEqual(
      [alice, bob, ...newcomers].map((u) => u.id).sort(),
    );
    const stored = await Conversation.findById(conversationId).lean();
    expect(stored?.members.map((m) => m.user_id.toString()).sort()).toEqual(
      [alice, bob, ...newcomers].map((u) => u.id).sort(),
    );
    expect(eventsOf(events, 'participantsChanged')).toHaveLength(newcomers.length);
  });
});

describe('DELETE /api/chat/conversations/:id/participants/:userId', () => {
  it('lets the creator remove someone, who then gets 404 on the conversation', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const conversationId = await createConversation([alice, bob, carol]);

    const res = await client(app, alice.token).delete(
      `/conversations/${conversationId}/participants/${carol.id}`,
    );

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: { removed: carol.id } });
    expect(await participantsOf(conversationId)).toEqual([alice.id, bob.id].sort());
    const stored = await Conversation.findById(conversationId).lean();
    expect(stored?.members.map((m) => m.user_id.toString()).sort()).toEqual(
      [alice.id, bob.id].sort(),
    );
    const carolApi = client(app, carol.token);
    expectFailure(
      await carolApi.get(`/conversations/${conversationId}`),
      404,
      'CONVERSATION_NOT_FOUND',
    );
    expectFailure(await carolApi.get(`/conversations/${conversationId}/messages`), 404);
    expectFailure(
      await carolApi.post(`/conversations/${conversationId}/messages`, { text: 'still here?' }),
      404,
    );
    expect(eventsOf(events, 'participantsChanged')).toEqual([
      expect.objectContaining({ conversationId, added: [], removed: [carol.id] }),
    ]);
  });

  it('lets any participant leave by removing themselves', async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const conversationId = await createConversation([alice, bob, carol]);

    const res = await client(app, bob.token).delete(
      `/conversations/${conversationId}/participants/${bob.id}`,
    );

    expect(res.status).toBe(200);
    expect(await participantsOf(conversationId)).toEqual([alice.id, carol.id].sort());
    const list = bodyOf<{ data: unknown[] }>(await client(app, bob.token).get('/conversations'));
    expect(list.data).toEqual([]);
  });

  it('answers 403 when a non-creator removes someone else, and changes nothing', async () => {
    const { app, events } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const conversationId = await createConversation([alice, bob, carol]);

    const res = await client(app, bob.token).delete(
      `/conversations/${conversationId}/participants/${carol.id}`,
    );

    expectFailure(res, 403, 'FORBIDDEN');
    expect(await participantsOf(conversationId)).toEqual([alice.id, bob.id, carol.id].sort());
    expect(eventsOf(events, 'participantsChanged')).toEqual([]);
  });

  it('answers 404 when the user to remove is not a participant', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const outsider = await createUser();
    const conversationId = await createConversation([alice, bob]);

    const res = await client(app, alice.token).delete(
      `/conversations/${conversationId}/participants/${outsider.id}`,
    );

    expectFailure(res, 404);
    expect(await participantsOf(conversationId)).toEqual([alice.id, bob.id].sort());
  });

  it('answers 404 to a non-participant and 400 for invalid ids', async () => {
    const { app } = buildTestApp();
    const [alice, bob, mallory] = await createUsers(3);
    const conversationId = await createConversation([alice, bob]);
    const api = client(app, mallory.token);

    expectFailure(
      await api.delete(`/conversations/${conversationId}/participants/${bob.id}`),
      404,
      'CONVERSATION_NOT_FOUND',
    );
    expectFailure(await api.delete(`/conversations/${conversationId}/participants/nope`), 400);
    expectFailure(await api.delete(`/conversations/nope/participants/${bob.id}`), 400);
    expect(await participantsOf(conversationId)).toEqual([alice.id, bob.id].sort());
  });

  it('hands removal to the longest-standing member once the creator has left, and back if the creator returns', async () => {
    const { app } = buildTestApp();
    const [creator, first, second, third] = await createUsers(4);
    const conversationId = await createConversation([creator, first, second, third]);
    const remove = (by: typeof creator, who: typeof creator) =>
      client(app, by.token).delete(`/conversations/${conversationId}/participants/${who.id}`);

    expect((await remove(creator, creator)).status).toBe(200);

    expectFailure(await remove(second, third), 403, 'FORBIDDEN');
    expect((await remove(first, third)).status).toBe(200);
    expect(await participantsOf(conversationId)).toEqual([first.id, second.id].sort());

    // The creator, added again, manages again.
    await client(app, second.token)
      .post(`/conversations/${conversationId}/participants`, { user_id: creator.id })
      .expect(200);
    expectFailure(await remove(first, second), 403, 'FORBIDDEN');
    expect((await remove(creator, second)).status).toBe(200);
    expect(await participantsOf(conversationId)).toEqual([creator.id, first.id].sort());
  });
});

describe('leaving a group whose remaining members already have their own conversation', () => {
  it('still lets a member leave (200), keeping both conversations apart', async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);
    const pair = await createConversation([alice, bob]);
    const group = await createConversation([alice, bob, carol]);

    const res = await client(app, carol.token).delete(
      `/conversations/${group}/participants/${carol.id}`,
    );

    expect(res.status).toBe(200);
    expect(await participantsOf(group)).toEqual([alice.id, bob.id].sort());
    expect(await participantsOf(pair)).toEqual([alice.id, bob.id].sort());
    const again = await client(app, alice.token).post('/conversations', { recipient_id: bob.id });
    expect(again.status).toBe(200);
    expect(conversationOf(again)._id).toBe(pair);
  });
});
