import { gzipSync } from 'node:zlib';
import { Types } from 'mongoose';
import request from 'supertest';
import { Conversation, Message } from '../../models';
import { createConversation, createUsers, insertMessages } from '../factories';
import {
  bodyOf,
  CHAT,
  client,
  eventsOf,
  expectFailure,
  type FailureEnvelope,
} from '../helpers/api';
import { buildTestApp } from '../helpers/app';

async function setup() {
  const built = buildTestApp();
  const [alice, bob] = await createUsers(2);
  const conversationId = await createConversation([alice, bob]);
  return { ...built, alice, bob, conversationId, api: client(built.app, alice.token) };
}

describe('input hardening', () => {
  it('answers 400 MALFORMED_JSON for a body that is not valid JSON, storing nothing', async () => {
    const { app, alice, conversationId } = await setup();

    const res = await request(app)
      .post(`${CHAT}/conversations/${conversationId}/messages`)
      .set('Authorization', `Bearer ${alice.token}`)
      .set('Content-Type', 'application/json')
      .send('{"text": "unterminated');

    expectFailure(res, 400, 'MALFORMED_JSON');
    expect(await Message.countDocuments()).toBe(0);
  });

  it('reads no body before the caller is authenticated: a malformed or oversized one without a token gets 401', async () => {
    const { app, conversationId } = await setup();
    const path = `${CHAT}/conversations/${conversationId}/messages`;

    const malformed = await request(app)
      .post(path)
      .set('Content-Type', 'application/json')
      .send('{"text": "unterminated');
    const oversized = await request(app)
      .post(path)
      .set('Authorization', 'Bearer not.a.jwt')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ text: 'x'.repeat(40_000) }));

    expectFailure(malformed, 401, 'UNAUTHENTICATED');
    expectFailure(oversized, 401, 'UNAUTHENTICATED');
    expect(await Message.countDocuments()).toBe(0);
  });

  it.each([
    ['a top-level string', '"just a string"'],
    ['a top-level number', '42'],
    ['a top-level array', '[{"text":"hi"}]'],
    ['null', 'null'],
  ])('answers 400 (never 500) for %s as the JSON body', async (_case, raw) => {
    const { app, alice, conversationId } = await setup();

    const res = await request(app)
      .post(`${CHAT}/conversations/${conversationId}/messages`)
      .set('Authorization', `Bearer ${alice.token}`)
      .set('Content-Type', 'application/json')
      .send(raw);

    expectFailure(res, 400);
    expect(await Message.countDocuments()).toBe(0);
  });

  it.each(['gzip', 'deflate', 'br'])(
    'answers 400, not 500, for a body labelled %s that does not decompress, storing nothing',
    async (encoding) => {
      const { app, alice, conversationId } = await setup();

      const res = await request(app)
        .post(`${CHAT}/conversations/${conversationId}/messages`)
        .set('Authorization', `Bearer ${alice.token}`)
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        .send('{"text":"x"}');

      expectFailure(res, 400, 'VALIDATION_FAILED');
      expect(await Message.countDocuments()).toBe(0);
    },
  );

  it('accepts a gzip-compressed JSON body', async () => {
    const { app, alice, conversationId } = await setup();

    const res = await request(app)
      .post(`${CHAT}/conversations/${conversationId}/messages`)
      .set('Authorization', `Bearer ${alice.token}`)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      // Sent as the bytes given (superagent would serialize a Buffer as JSON).
      .serialize((bytes: Buffer) => bytes as unknown as string)
      .send(gzipSync(JSON.stringify({ text: 'compressed' })));

    expect(res.status).toBe(201);
    expect((await Message.findOne().lean())?.text).toBe('compressed');
  });

  it('answers 413 for a body over 32kb, storing nothing', async () => {
    const { api, conversationId } = await setup();

    const res = await api.post(`/conversations/${conversationId}/messages`, {
      text: 'x'.repeat(33 * 1024),
    });

    expectFailure(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(await Message.countDocuments()).toBe(0);
  });

  it('answers 400 when the body is sent as text/plain instead of JSON', async () => {
    const { app, alice, conversationId } = await setup();

    const res = await request(app)
      .post(`${CHAT}/conversations/${conversationId}/messages`)
      .set('Authorization', `Bearer ${alice.token}`)
      .set('Content-Type', 'text/plain')
      .send('{"text":"hi"}');

    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(bodyOf<FailureEnvelope>(res).success).toBe(false);
    expect(await Message.countDocuments()).toBe(0);
  });

  it.each([
    ['an unknown top-level path', '/nope'],
    ['an unknown path under /api', '/api/nope'],
  ])('answers the 404 envelope for %s', async (_case, path) => {
    const { app } = await setup();

    const res = await request(app).get(path);

    expectFailure(res, 404, 'ROUTE_NOT_FOUND');
  });

  it('answers the 404 envelope for an unknown /api/chat route when authenticated', async () => {
    const { api, conversationId } = await setup();

    expectFailure(await api.get('/nope'), 404, 'ROUTE_NOT_FOUND');
    expectFailure(
      await api.post(`/conversations/${conversationId}/archive`),
      404,
      'ROUTE_NOT_FOUND',
    );
  });

  it('answers 404 for a method a route does not support', async () => {
    const { app, alice } = await setup();

    const res = await request(app)
      .put(`${CHAT}/conversations`)
      .set('Authorization', `Bearer ${alice.token}`)
      .send({});

    expectFailure(res, 404);
  });

  it.each([
    ['an operator object for page', '?page[$gt]=1'],
    ['an operator object for limit', '?limit[$gt]=0'],
    ['a nested object for page', '?page[value]=2'],
    ['a repeated page', '?page=1&page=2'],
    ['a repeated limit', '?limit=10&limit=20'],
    ['array syntax for page', '?page[]=1'],
  ])('answers 400 for %s in the history query and marks nothing read', async (_case, query) => {
    const { app, bob, alice, conversationId } = await setup();
    await insertMessages(conversationId, [alice], 3);

    const res = await client(app, bob.token).get(
      `/conversations/${conversationId}/messages${query}`,
    );

    expectFailure(res, 400, 'VALIDATION_FAILED');
    expect(await Message.countDocuments({ is_read: true })).toBe(0);
  });

  it.each([
    ['an operator object for limit', '?limit[$gt]=0'],
    ['an operator object for cursor', '?cursor[$ne]=x'],
  ])('answers 400 for %s in the conversation list query', async (_case, query) => {
    const { api } = await setup();

    expectFailure(await api.get(`/conversations${query}`), 400, 'VALIDATION_FAILED');
  });

  it.each([
    ['GET', (c: string) => `/conversations/${c}x`],
    ['GET', () => `/conversations/${'a'.repeat(25)}/messages`],
    ['POST', () => '/conversations/%7B%22$ne%22:null%7D/messages'],
    ['DELETE', (c: string) => `/conversations/${c}/messages/12345`],
  ])('answers 400 for a %s with an id that is not an ObjectId', async (method, pathOf) => {
    const { app, alice, conversationId } = await setup();
    const path = `${CHAT}${pathOf(conversationId)}`;
    const base =
      method === 'GET'
        ? request(app).get(path)
        : method === 'POST'
          ? request(app).post(path)
          : request(app).delete(path);

    const res = await base.set('Authorization', `Bearer ${alice.token}`).send({ text: 'hi' });

    expectFailure(res, 400);
    expect(await Message.countDocuments()).toBe(0);
  });

  it('answers 400 to a query with more than 100 parameters instead of dropping some unseen', async () => {
    const { app, alice, conversationId } = await setup();
    const padding = Array.from({ length: 1500 }, (_, i) => `k${i}=v`).join('&');

    const res = await request(app)
      .get(`${CHAT}/conversations/${conversationId}/messages?${padding}&page=abc`)
      .set('Authorization', `Bearer ${alice.token}`);

    expect(expectFailure(res, 400, 'VALIDATION_FAILED').message).toMatch(/query parameters/);
  });

  it('answers 400, not 500, for a malformed percent-encoding in the path', async () => {
    const { api } = await setup();

    const res = await api.get('/conversations/%E0%A4%A');

    expectFailure(res, 400);
  });

  it('never answers 500 to a barrage of client mistakes', async () => {
    const { api, conversationId } = await setup();
    const messageId = new Types.ObjectId().toString();
    const attempts = [
      api.post('/conversations', { recipient_id: ['a', 'b'] }),
      api.post('/conversations', { participant_ids: { $in: [] } }),
      api.post('/conversations', { participant_ids: [{ $ne: null }] }),
      api.post('/conversations', {
        participant_ids: Array.from({ length: 60 }, () => new Types.ObjectId().toString()),
      }),
      api.post('/conversations', { recipient_id: new Types.ObjectId().toString(), horse_id: 7 }),
      api.post(`/conversations/${conversationId}/messages`, { text: { toString: 'x' } }),
      api.post(`/conversations/${conversationId}/messages`, {
        text: 'hi',
        client_message_id: 'x'.repeat(101),
      }),
      api.post(`/conversations/${conversationId}/participants`, { user_ids: 'not-an-array' }),
      api.post(`/conversations/${conversationId}/participants`, { user_ids: [] }),
      api.delete(`/conversations/${conversationId}/messages/${messageId}`),
      api.get(`/conversations?limit=${'9'.repeat(30)}`),
      api.get(`/conversations/${conversationId}/messages?page=${'9'.repeat(30)}`),
      api.get(`/conversations/${conversationId}/messages?page=999999999&limit=100`),
      api.get(`/conversations?cursor=${'A'.repeat(201)}`),
    ];

    const statuses = (await Promise.all(attempts)).map((r) => r.status);

    for (const status of statuses) expect(status).toBeLessThan(500);
    expect(await Message.countDocuments()).toBe(0);
    expect(await Conversation.countDocuments()).toBe(1);
  });

  it('stores a lone surrogate as U+FFFD and answers what it stored (the 201, history and the event agree)', async () => {
    const { conversationId, api, events } = await setup();

    const res = await api.post(`/conversations/${conversationId}/messages`, {
      text: 'bad \ud800 x \udc00',
    });
    const history = await api.get(`/conversations/${conversationId}/messages`);

    expect(res.status).toBe(201);
    expect(bodyOf<{ data: { text: string } }>(res).data.text).toBe('bad \ufffd x \ufffd');
    expect(bodyOf<{ data: { text: string }[] }>(history).data.map((m) => m.text)).toEqual([
      'bad \ufffd x \ufffd',
    ]);
    expect((await Message.findOne({ conversation_id: conversationId }).lean())?.text).toBe(
      'bad \ufffd x \ufffd',
    );
    expect(eventsOf(events, 'messageCreated').map((e) => e.message.text)).toEqual([
      'bad \ufffd x \ufffd',
    ]);
  });

  it('stores a lone surrogate in listing_id as U+FFFD and answers what it stored (create, get-or-create again, list)', async () => {
    const { api, bob } = await setup();

    const created = await api.post('/conversations', {
      recipient_id: bob.id,
      listing_id: 'mare \ud800',
    });
    const again = await api.post('/conversations', {
      recipient_id: bob.id,
      listing_id: 'mare \ud800',
    });
    const listed = await api.get('/conversations');

    expect(created.status).toBe(201);
    expect(again.status).toBe(200);
    type Listed = { data: Array<{ _id: string; listing_id: string }> };
    const createdView = bodyOf<{ data: { _id: string; listing_id: string } }>(created).data;
    expect(createdView.listing_id).toBe('mare \ufffd');
    expect(bodyOf<{ data: { _id: string } }>(again).data._id).toBe(createdView._id);
    expect(bodyOf<Listed>(listed).data.map((c) => c.listing_id)).toContain('mare \ufffd');
    expect((await Conversation.findById(createdView._id).lean())?.listing_id).toBe('mare \ufffd');
  });

  it('refuses HEAD on the API with 405 (Allow: GET), so it marks nothing read', async () => {
    const { app, alice, bob, conversationId, events } = await setup();
    await client(app, bob.token).post(`/conversations/${conversationId}/messages`, {
      text: 'unread',
    });

    const res = await request(app)
      .head(`${CHAT}/conversations/${conversationId}/messages`)
      .set('Authorization', `Bearer ${alice.token}`);
    const stored = await Message.findOne({ conversation_id: conversationId }).lean();

    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET');
    expect(stored).toMatchObject({ is_read: false, status: 'sent' });
    expect(eventsOf(events, 'messagesRead')).toEqual([]);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['no Content-Type', undefined],
  ])('answers 415 for a JSON body sent as %s, storing nothing', async (_case, type) => {
    const { app, alice, conversationId } = await setup();

    const req = request(app)
      .post(`${CHAT}/conversations/${conversationId}/messages`)
      .set('Authorization', `Bearer ${alice.token}`);
    if (type) req.set('Content-Type', type);
    const res = await req.send(Buffer.from('{"text":"hello"}'));

    expectFailure(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await Message.countDocuments()).toBe(0);
  });

  it('still takes a mark-read whatever its Content-Type: its body is optional and ignored unless JSON', async () => {
    const { app, alice, bob, conversationId } = await setup();
    await client(app, bob.token).post(`/conversations/${conversationId}/messages`, { text: 'hi' });

    const noBody = await request(app)
      .post(`${CHAT}/conversations/${conversationId}/read`)
      .set('Authorization', `Bearer ${alice.token}`)
      .set('Content-Type', 'text/plain');
    const textBody = await request(app)
      .post(`/messages/${conversationId}/mark-read`)
      .set('Authorization', `Bearer ${alice.token}`)
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify({ user_id: alice.id }));

    expect(noBody.status).toBe(200);
    expect(textBody.status).toBe(200);
    expect(await Message.countDocuments({ conversation_id: conversationId, is_read: true })).toBe(
      1,
    );
  });

  it('answers 400 for a null where an id is required (participants, recipient)', async () => {
    const { api, conversationId } = await setup();

    expectFailure(
      await api.post(`/conversations/${conversationId}/participants`, { user_id: null }),
      400,
    );
    expectFailure(await api.post('/conversations', { recipient_id: null }), 400);
    expect((await Conversation.findById(conversationId).lean())?.participants).toHaveLength(2);
  });
});
