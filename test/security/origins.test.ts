import request from 'supertest';
import { Message } from '../../models';
import { createConversation, createUsers } from '../factories';
import { bodyOf, type SuccessEnvelope } from '../helpers/api';
import { emitAck, nextEvent } from '../helpers/realtime';
import { joinHorseTrust } from '../helpers/realtime-suite';
import { expectEnvelope, useSecureServer } from './support';

const MARKET = 'https://market.example';
const EVIL = 'https://evil.example';

describe('origin allow-list (CORS_ORIGINS)', () => {
  const suite = useSecureServer({ CORS_ORIGINS: MARKET });

  it('answers a preflight from the allowed origin with its CORS headers', async () => {
    const res = await request(suite.server.http)
      .options('/api/chat/conversations')
      .set('Origin', MARKET)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');

    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(MARKET);
    expect(res.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/i);
  });

  it('serves a request from the allowed origin with Access-Control-Allow-Origin', async () => {
    const [a] = await createUsers(1);

    const res = await suite.as(a.token).get('/conversations').set('Origin', MARKET);

    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(MARKET);
    expect(res.headers.vary).toMatch(/Origin/i);
  });

  it.each([
    ['another site', EVIL],
    ['a look-alike subdomain of another site', 'https://market.example.evil.example'],
    ['the allowed host over http', 'http://market.example'],
    ['the allowed host on another port', 'https://market.example:8443'],
    ['a sandboxed page (null)', 'null'],
  ])(
    'refuses a request from %s with 403 ORIGIN_NOT_ALLOWED, before doing anything',
    async (_l, origin) => {
      const [a, b] = await createUsers(2);
      const conv = await createConversation([a, b]);

      const read = await suite.as(a.token).get('/conversations').set('Origin', origin);
      const send = await suite
        .as(a.token)
        .post(`/conversations/${conv}/messages`, { text: 'from elsewhere' })
        .set('Origin', origin);
      const preflight = await request(suite.server.http)
        .options(`/api/chat/conversations/${conv}/messages`)
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST');

      for (const res of [read, send, preflight]) {
        expectEnvelope(res, 403, 'ORIGIN_NOT_ALLOWED');
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
      }
      expect(await Message.countDocuments()).toBe(0);
    },
  );

  it('allows requests without an Origin header (mobile apps, servers): the token decides', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);

    const send = await suite.as(a.token).post(`/conversations/${conv}/messages`, { text: 'app' });
    const anonymous = await suite.as(null).get('/conversations');

    expect(send.status).toBe(201);
    expect(send.headers['access-control-allow-origin']).toBeUndefined();
    expectEnvelope(anonymous, 401, 'UNAUTHENTICATED');
  });

  it('refuses a WebSocket handshake from another origin, even with a valid token', async () => {
    const [a] = await createUsers(1);

    const err = await suite.refused(a.token, { extraHeaders: { Origin: EVIL } });

    expect(err.message.length).toBeGreaterThan(0);
    expect(await suite.socketsOf(a.id)).toBe(0);
  });

  it('refuses a long-polling handshake from another origin with 403 and the reason', async () => {
    const handshake = (origin?: string) => {
      const req = request(suite.server.http).get('/socket.io/?EIO=4&transport=polling');
      return origin ? req.set('Origin', origin) : req;
    };

    const evil = await handshake(EVIL);
    const market = await handshake(MARKET);
    const none = await handshake();

    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.text)).toEqual({ code: 4, message: 'Origin not allowed' });
    // Engine.IO's open packet: "0" followed by the session.
    expect([market.status, none.status]).toEqual([200, 200]);
    expect(market.text).toMatch(/^0\{"sid":/);
    expect(none.text).toMatch(/^0\{"sid":/);
  });

  it('accepts sockets from the allowed origin and without an Origin header', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);

    const browser = await suite.connect(a.token, { extraHeaders: { Origin: MARKET } });
    const app = await suite.connect(b.token);
    await joinHorseTrust(app, conv);
    const received = nextEvent(app, 'new_message');
    const ack = await emitAck(browser, 'send_message', { conversation_id: conv, text: 'hi' });

    expect(ack.success).toBe(true);
    expect(await received).toMatchObject({ text: 'hi' });
  });
});

describe('response hardening', () => {
  const suite = useSecureServer();

  it('sends helmet headers and no X-Powered-By', async () => {
    const [a] = await createUsers(1);

    for (const res of [
      await suite.as(a.token).get('/conversations'),
      await suite.as(null).get('/conversations'),
      await request(suite.server.http).get('/health'),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  const hostile = [
    '<script>alert(1)</script>',
    '"><img src=x onerror=alert(document.cookie)>',
    "'; DROP TABLE messages; --",
    '{"$ne": null}',
    '${7*7} {{constructor.constructor("alert(1)")()}}',
    '\u202Egnp.exe \u0000 \uD83D\uDE00 &amp; &lt;b&gt;',
  ];

  it.each(hostile)('stores %j and returns it exactly as sent, as JSON', async (text) => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sb = await suite.connect(b.token);
    await joinHorseTrust(sb, conv);
    const live = nextEvent(sb, 'new_message');

    const sent = await suite.as(a.token).post(`/conversations/${conv}/messages`, { text });
    const history = await suite.as(b.token).get(`/conversations/${conv}/messages`);

    expect(sent.status).toBe(201);
    expect(sent.headers['content-type']).toMatch(/^application\/json/);
    expect(sent.headers['x-content-type-options']).toBe('nosniff');
    expect(bodyOf<SuccessEnvelope<{ text: string }>>(sent).data.text).toBe(text);
    expect(
      bodyOf<SuccessEnvelope<Array<{ text: string }>>>(history).data.map((m) => m.text),
    ).toEqual([text]);
    expect(await live).toMatchObject({ text });
    expect((await Message.findOne().lean())?.text).toBe(text);
  });
});
