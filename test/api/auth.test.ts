import jwt from 'jsonwebtoken';
import { Types } from 'mongoose';
import request from 'supertest';
import { Conversation, Message, User } from '../../models';
import { createConversation, createUsers } from '../factories';
import { CHAT, dataOf, expectFailure } from '../helpers/api';
import { buildTestApp } from '../helpers/app';
import { badTokens, TEST_JWT_SECRET } from '../helpers/tokens';

type Method = 'get' | 'post' | 'delete';

const someId = () => new Types.ObjectId().toString();

/** Every /api/chat route, with well-formed ids so only authentication can fail. */
const ROUTES: Array<[Method, string]> = [
  ['post', '/conversations'],
  ['get', '/conversations'],
  ['get', '/conversations/:id'],
  ['get', '/conversations/:id/messages'],
  ['post', '/conversations/:id/messages'],
  ['delete', '/conversations/:id/messages/:messageId'],
  ['post', '/conversations/:id/read'],
  ['post', '/conversations/:id/mark-read'],
  ['post', '/conversations/:id/participants'],
  ['delete', '/conversations/:id/participants/:userId'],
  ['get', '/unread-count'],
];

const fill = (route: string, ids: { id: string; messageId: string; userId: string }): string =>
  route.replace(':id', ids.id).replace(':messageId', ids.messageId).replace(':userId', ids.userId);

/** Authorization header values that must be refused, given the id of a real user. */
const BAD_AUTH: Array<[string, (userId: string) => string | undefined]> = [
  ['missing header', () => undefined],
  ['not a Bearer scheme', (id) => `Basic ${Buffer.from(`${id}:pw`).toString('base64')}`],
  ['Bearer without a token', () => 'Bearer '],
  ['malformed token', () => `Bearer ${badTokens.malformed()}`],
  ['expired token', (id) => `Bearer ${badTokens.expired(id)}`],
  ['token signed with the wrong key', (id) => `Bearer ${badTokens.wrongKey(id)}`],
  ['alg none token', (id) => `Bearer ${badTokens.algNone(id)}`],
  ['token without a user claim', () => `Bearer ${badTokens.noUserClaim()}`],
  [
    'token whose user claim is not an ObjectId',
    () => `Bearer ${jwt.sign({ sub: 'admin' }, TEST_JWT_SECRET)}`,
  ],
  [
    'token for a user that does not exist',
    () => `Bearer ${jwt.sign({ sub: someId() }, TEST_JWT_SECRET)}`,
  ],
];

describe('authentication on /api/chat', () => {
  describe.each(ROUTES)('%s %s', (method, route) => {
    it.each(BAD_AUTH)('rejects a %s with 401 and the failure envelope', async (_case, header) => {
      const { app } = buildTestApp();
      const [alice, bob] = await createUsers(2);
      const conversationId = await createConversation([alice, bob]);
      const path = `${CHAT}${fill(route, { id: conversationId, messageId: someId(), userId: bob.id })}`;

      let req = request(app)[method](path);
      const value = header(alice.id);
      if (value !== undefined) req = req.set('Authorization', value);
      const res = await req.send({ text: 'hello', recipient_id: bob.id, user_id: bob.id });

      expectFailure(res, 401, 'UNAUTHENTICATED');
      expect(await Message.countDocuments()).toBe(0);
      expect(await Conversation.countDocuments()).toBe(1);
    });
  });

  it('says "Token expired" for an expired token', async () => {
    const { app } = buildTestApp();
    const [alice] = await createUsers(1);

    const res = await request(app)
      .get(`${CHAT}/conversations`)
      .set('Authorization', `Bearer ${badTokens.expired(alice.id)}`);

    expect(expectFailure(res, 401).message).toBe('Token expired');
  });

  it('refuses a token for a user who was deleted after it was issued', async () => {
    const { app } = buildTestApp();
    const [alice] = await createUsers(1);
    await User.deleteOne({ _id: alice.id });

    const res = await request(app)
      .get(`${CHAT}/conversations`)
      .set('Authorization', `Bearer ${alice.token}`);

    expectFailure(res, 401, 'UNAUTHENTICATED');
  });

  it.each([
    ['userId (Horse Trust style)', 'userId'],
    ['sub', 'sub'],
    ['id', 'id'],
  ])('accepts a token carrying the user in the %s claim', async (_name, claim) => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const token = jwt.sign({ [claim]: alice.id }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 60,
    });

    const res = await request(app)
      .post(`${CHAT}/conversations`)
      .set('Authorization', `Bearer ${token}`)
      .send({ recipient_id: bob.id });

    expect(res.status).toBe(201);
    const stored = await Conversation.findById(dataOf<{ _id: string }>(res)._id).lean();
    expect(stored?.created_by.toString()).toBe(alice.id);
  });

  it('prefers the sub claim when a token carries both sub and userId', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const token = jwt.sign({ sub: alice.id, userId: bob.id }, TEST_JWT_SECRET, { expiresIn: 60 });

    const res = await request(app)
      .get(`${CHAT}/unread-count`)
      .set('Authorization', `Bearer ${token}`);

    expect(res.status).toBe(200);
    const conversationId = await createConversation([bob, alice]);
    const created = await request(app)
      .post(`${CHAT}/conversations/${conversationId}/messages`)
      .set('Authorization', `Bearer ${token}`)
      .send({ text: 'from alice' });
    expect(created.status).toBe(201);
    expect((await Message.findOne().lean())?.sender_id.toString()).toBe(alice.id);
  });

  it('accepts the scheme name case-insensitively', async () => {
    const { app } = buildTestApp();
    const [alice] = await createUsers(1);

    const res = await request(app)
      .get(`${CHAT}/unread-count`)
      .set('Authorization', `bearer ${alice.token}`);

    expect(res.status).toBe(200);
  });

  it('does not require a token on /health and /ready', async () => {
    const { app } = buildTestApp();

    expect((await request(app).get('/health')).status).toBe(200);
    expect((await request(app).get('/ready')).status).toBe(200);
  });
});
