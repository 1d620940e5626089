import { Types } from 'mongoose';
import { Conversation } from '../../models';
import { createConversation, createUser, createUsers } from '../factories';
import { bodyOf, client, conversationOf, expectFailure, ISO_DATE } from '../helpers/api';
import { buildTestApp } from '../helpers/app';

const storedIds = async (): Promise<string[]> =>
  (await Conversation.find({}, { _id: 1 }).lean()).map((c) => c._id.toString());

describe('POST /api/chat/conversations', () => {
  it('creates a 1:1 conversation from recipient_id with 201 and the caller as a participant', async () => {
    const { app } = buildTestApp();
    const alice = await createUser({
      full_name: 'Alice Rider',
      profile_picture_url: 'https://cdn.example.com/a.jpg',
    });
    const bob = await createUser({ full_name: 'Bob Breeder', profile_picture_url: null });

    const res = await client(app, alice.token).post('/conversations', { recipient_id: bob.id });

    expect(res.status).toBe(201);
    expect(bodyOf<{ success: boolean; created: boolean }>(res)).toMatchObject({
      success: true,
      created: true,
    });
    const view = conversationOf(res);
    expect(view).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      participants: expect.arrayContaining([
        {
          _id: alice.id,
          full_name: 'Alice Rider',
          profile_picture_url: 'https://cdn.example.com/a.jpg',
        },
        { _id: bob.id, full_name: 'Bob Breeder', profile_picture_url: null },
      ]),
      listing_id: null,
      last_message: null,
      last_message_at: null,
      unread_count: 0,
      created_at: expect.stringMatching(ISO_DATE),
      updated_at: expect.stringMatching(ISO_DATE),
    });
    expect(view.participants).toHaveLength(2);
    const stored = await Conversation.findById(view._id).lean();
    expect(stored?.participants.map(String).sort()).toEqual([alice.id, bob.id].sort());
    expect(stored?.created_by.toString()).toBe(alice.id);
    expect(stored?.members.map((m) => [m.user_id.toString(), m.read_seq]).sort()).toEqual(
      [
        [alice.id, 0],
        [bob.id, 0],
      ].sort(),
    );
  });

  it('returns 200 with the same conversation when it already exists, from either side', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const first = await client(app, alice.token).post('/conversations', { recipient_id: bob.id });

    const again = await client(app, alice.token).post('/conversations', { recipient_id: bob.id });
    const reverse = await client(app, bob.token).post('/conversations', { recipient_id: alice.id });

    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(reverse.status).toBe(200);
    expect(bodyOf<{ created: boolean }>(again).created).toBe(false);
    expect(conversationOf(again)._id).toBe(conversationOf(first)._id);
    expect(conversationOf(reverse)._id).toBe(conversationOf(first)._id);
    expect(await storedIds()).toEqual([conversationOf(first)._id]);
  });

  it('creates a group from participant_ids and finds it again whatever the order', async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);

    const created = await client(app, alice.token).post('/conversations', {
      participant_ids: [bob.id, carol.id],
    });
    const again = await client(app, carol.token).post('/conversations', {
      participant_ids: [alice.id, bob.id],
    });

    expect(created.status).toBe(201);
    expect(
      conversationOf(created)
        .participants.map((p) => p._id)
        .sort(),
    ).toEqual([alice.id, bob.id, carol.id].sort());
    expect(again.status).toBe(200);
    expect(conversationOf(again)._id).toBe(conversationOf(created)._id);
    const stored = await Conversation.findById(conversationOf(created)._id).lean();
    expect(stored?.participants).toHaveLength(3);
    expect(stored?.members).toHaveLength(3);
  });

  it('keeps a group apart from the 1:1 conversation between two of its members', async () => {
    const { app } = buildTestApp();
    const [alice, bob, carol] = await createUsers(3);

    const pair = await client(app, alice.token).post('/conversations', { recipient_id: bob.id });
    const group = await client(app, alice.token).post('/conversations', {
      participant_ids: [bob.id, carol.id],
    });

    expect(group.status).toBe(201);
    expect(conversationOf(group)._id).not.toBe(conversationOf(pair)._id);
    expect(await Conversation.countDocuments()).toBe(2);
  });

  it.each([['listing_id'], ['horse_id'], ['request_match_id']])(
    'stores %s as listing_id and keeps one conversation per listing',
    async (field) => {
      const { app } = buildTestApp();
      const [alice, bob] = await createUsers(2);
      const api = client(app, alice.token);

      const thunder = await api.post('/conversations', {
        recipient_id: bob.id,
        [field]: 'horse-thunder',
      });
      const storm = await api.post('/conversations', {
        recipient_id: bob.id,
        [field]: 'horse-storm',
      });
      const thunderAgain = await api.post('/conversations', {
        recipient_id: bob.id,
        listing_id: 'horse-thunder',
      });
      const noListing = await api.post('/conversations', { recipient_id: bob.id });

      expect([thunder.status, storm.status, thunderAgain.status, noListing.status]).toEqual([
        201, 201, 200, 201,
      ]);
      expect(conversationOf(thunder).listing_id).toBe('horse-thunder');
      expect(conversationOf(storm)._id).not.toBe(conversationOf(thunder)._id);
      expect(conversationOf(thunderAgain)._id).toBe(conversationOf(thunder)._id);
      const stored = await Conversation.find({}, { listing_id: 1 }).lean();
      expect(stored.map((c) => c.listing_id).sort()).toEqual(
        ['horse-storm', 'horse-thunder', null].sort(),
      );
    },
  );

  it.each([
    ['recipient_id is yourself', (self: string) => ({ recipient_id: self })],
    ['participant_ids names only yourself', (self: string) => ({ participant_ids: [self] })],
  ])('answers 400 and stores nothing when %s', async (_case, bodyFor) => {
    const { app } = buildTestApp();
    const alice = await createUser();

    const res = await client(app, alice.token).post('/conversations', bodyFor(alice.id));

    expectFailure(res, 400, 'VALIDATION_FAILED');
    expect(await Conversation.countDocuments()).toBe(0);
  });

  it.each([
    ['recipient_id', (ghost: string) => ({ recipient_id: ghost })],
    ['one of participant_ids', (ghost: string, bob: string) => ({ participant_ids: [bob, ghost] })],
  ])('answers 404 and stores nothing when %s names an unknown user', async (_case, bodyFor) => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);

    const res = await client(app, alice.token).post(
      '/conversations',
      bodyFor(new Types.ObjectId().toString(), bob.id),
    );

    expectFailure(res, 404, 'USER_NOT_FOUND');
    expect(await Conversation.countDocuments()).toBe(0);
  });

  it.each<[string, (bob: string) => unknown]>([
    ['recipient_id is not an ObjectId', () => ({ recipient_id: 'not-an-id' })],
    ['recipient_id is a number', () => ({ recipient_id: 12345 })],
    ['recipient_id is an operator object', () => ({ recipient_id: { $ne: null } })],
    ['participant_ids holds an invalid id', (bob) => ({ participant_ids: [bob, 'xyz'] })],
    ['participant_ids is a string', (bob) => ({ participant_ids: bob })],
    ['participant_ids is empty', () => ({ participant_ids: [] })],
    ['neither recipient_id nor participant_ids is given', () => ({ listing_id: 'horse-1' })],
    ['listing_id is an object', (bob) => ({ recipient_id: bob, listing_id: { $gt: '' } })],
    [
      'listing_id is longer than 200 characters',
      (bob) => ({ recipient_id: bob, listing_id: 'x'.repeat(201) }),
    ],
  ])('answers 400 and stores nothing when %s', async (_case, bodyFor) => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);

    const res = await client(app, alice.token).post('/conversations', bodyFor(bob.id) as object);

    expectFailure(res, 400);
    expect(await Conversation.countDocuments()).toBe(0);
  });

  it('treats an upper-case recipient_id as the same user', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const api = client(app, alice.token);

    const first = await api.post('/conversations', { recipient_id: bob.id });
    const upper = await api.post('/conversations', { recipient_id: bob.id.toUpperCase() });
    const self = await api.post('/conversations', { recipient_id: alice.id.toUpperCase() });

    expect(upper.status).toBe(200);
    expect(conversationOf(upper)._id).toBe(conversationOf(first)._id);
    expectFailure(self, 400);
    expect(await Conversation.countDocuments()).toBe(1);
  });

  it('creates exactly one conversation under 20 concurrent identical requests', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const api = client(app, alice.token);

    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        api.post('/conversations', { recipient_id: bob.id, listing_id: 'horse-1' }),
      ),
    );

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    const ids = new Set(responses.map((r) => conversationOf(r)._id));
    expect(ids.size).toBe(1);
    expect(await storedIds()).toEqual([...ids]);
  });
});

describe('concurrent get-or-create from both sides', () => {
  it('yields one conversation when both participants create it at the same time', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);

    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? client(app, alice.token).post('/conversations', { recipient_id: bob.id })
          : client(app, bob.token).post('/conversations', { recipient_id: alice.id }),
      ),
    );

    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(new Set(responses.map((r) => conversationOf(r)._id)).size).toBe(1);
    expect(await Conversation.countDocuments()).toBe(1);
  });
});

describe('GET /api/chat/conversations/:id', () => {
  it('returns the conversation in the same shape as the list, for a participant', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob], { listing_id: 'horse-7' });

    const res = await client(app, bob.token).get(`/conversations/${conversationId}`);

    expect(res.status).toBe(200);
    expect(bodyOf<{ success: boolean }>(res).success).toBe(true);
    expect(conversationOf(res)).toMatchObject({
      _id: conversationId,
      listing_id: 'horse-7',
      last_message: null,
      unread_count: 0,
      participants: expect.arrayContaining([
        { _id: alice.id, full_name: alice.full_name, profile_picture_url: expect.any(String) },
        { _id: bob.id, full_name: bob.full_name, profile_picture_url: expect.any(String) },
      ]),
    });
  });

  it('answers 404 to a non-participant, exactly as for a conversation that does not exist', async () => {
    const { app } = buildTestApp();
    const [alice, bob, mallory] = await createUsers(3);
    const conversationId = await createConversation([alice, bob]);

    const hidden = await client(app, mallory.token).get(`/conversations/${conversationId}`);
    const missing = await client(app, mallory.token).get(
      `/conversations/${new Types.ObjectId().toString()}`,
    );

    expectFailure(hidden, 404, 'CONVERSATION_NOT_FOUND');
    expect(bodyOf<object>(hidden)).toEqual(bodyOf<object>(missing));
  });

  it.each([['not-an-id'], ['123'], ['zzzzzzzzzzzzzzzzzzzzzzzz']])(
    'answers 400 for the invalid id %s',
    async (id) => {
      const { app } = buildTestApp();
      const alice = await createUser();

      const res = await client(app, alice.token).get(`/conversations/${id}`);

      expectFailure(res, 400);
    },
  );
});
