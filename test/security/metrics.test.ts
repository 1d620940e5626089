import request from 'supertest';
import { createConversation, createUsers } from '../factories';
import { emitAck, waitFor } from '../helpers/realtime';
import { ConfigError, loadConfig } from '../../src/config';
import { useSecureServer } from './support';

/** One sample of the Prometheus text exposition, 0 when the series is absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('GET /metrics', () => {
  // A send budget of 1 per second so that a second quick send is refused.
  const suite = useSecureServer({ RATE_SEND_PER_SEC: '1', RATE_SEND_BURST: '0' });
  const scrape = async () => {
    const res = await request(suite.server.http).get('/metrics');
    expect(res.status).toBe(200);
    return res.text;
  };

  it('serves the Prometheus text format with every chat series declared', async () => {
    const res = await request(suite.server.http).get('/metrics');
    expect(suite.server.metrics).toBeDefined();

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const [name, type] of [
      ['chat_sockets_connected', 'gauge'],
      ['chat_messages_sent_total', 'counter'],
      ['chat_socket_ack_seconds', 'histogram'],
      ['chat_rate_limited_total', 'counter'],
      ['chat_rejected_total', 'counter'],
      ['chat_database_errors_total', 'counter'],
    ]) {
      expect(res.text).toContain(`# HELP ${name} `);
      expect(res.text).toContain(`# TYPE ${name} ${type}`);
    }
    expect(sample(res.text, 'chat_database_errors_total')).toBe(0);
    expect(res.text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('counts connected sockets up and down', async () => {
    const [a, b] = await createUsers(2);
    const before = sample(await scrape(), 'chat_sockets_connected');

    const sa = await suite.connect(a.token);
    await suite.connect(b.token);
    const connected = sample(await scrape(), 'chat_sockets_connected');
    sa.close();
    await waitFor(() => suite.server.realtime.io.sockets.sockets.size === 1);
    const after = sample(await scrape(), 'chat_sockets_connected');

    expect([connected - before, after - before]).toEqual([2, 1]);
  });

  it('counts stored messages, REST and socket alike, and times socket acks by event', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sb = await suite.connect(b.token);
    const before = await scrape();

    const rest = await suite.as(a.token).post(`/conversations/${conv}/messages`, { text: 'one' });
    const ack = await emitAck(sb, 'send_message', { conversation_id: conv, text: 'two' });
    await emitAck(sb, 'typing', conv);
    const after = await scrape();

    expect([rest.status, ack.success]).toEqual([201, true]);
    const delta = (name: string, labels = '') =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('chat_messages_sent_total')).toBe(2);
    expect(delta('chat_socket_ack_seconds_count', '{event="send_message"}')).toBe(1);
    expect(delta('chat_socket_ack_seconds_count', '{event="typing"}')).toBe(1);
    expect(
      sample(after, 'chat_socket_ack_seconds_bucket', '{le="+Inf",event="send_message"}'),
    ).toBe(sample(after, 'chat_socket_ack_seconds_count', '{event="send_message"}'));
    expect(delta('chat_socket_ack_seconds_sum', '{event="send_message"}')).toBeGreaterThan(0);
  });

  it('counts rate-limited and rejected requests and events, by code', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sb = await suite.connect(b.token);
    const before = await scrape();

    const sends = await Promise.all(
      ['x', 'y'].map((text) => suite.as(a.token).post(`/conversations/${conv}/messages`, { text })),
    );
    const invalid = await suite.as(a.token).post(`/conversations/${conv}/messages`, { text: '' });
    const unauthenticated = await suite.as('not.a.jwt').get('/conversations');
    const refusedAck = await emitAck(sb, 'join_conversation', { conversation_id: { $ne: null } });
    const after = await scrape();

    expect(sends.map((r) => r.status).sort()).toEqual([201, 429]);
    expect([invalid.status, unauthenticated.status, refusedAck.success]).toEqual([400, 401, false]);
    const delta = (name: string, labels = '') =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('chat_rate_limited_total')).toBe(1);
    expect(delta('chat_rejected_total', '{code="RATE_LIMITED"}')).toBe(1);
    // The empty text and the operator as a conversation id: one code for every input mistake.
    expect(delta('chat_rejected_total', '{code="VALIDATION_FAILED"}')).toBe(2);
    expect(delta('chat_rejected_total', '{code="UNAUTHENTICATED"}')).toBe(1);
    expect(delta('chat_messages_sent_total')).toBe(1);
    expect(delta('chat_database_errors_total')).toBe(0);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const token = 'scrape-token-0123456789';
  const suite = useSecureServer({ METRICS_TOKEN: token });

  it.each([
    ['no Authorization header', undefined],
    ['another token', 'Bearer scrape-token-9876543210'],
    ['the token without Bearer', token],
  ])('answers 401 in the envelope to %s, with no metrics', async (_case, header) => {
    const req = request(suite.server.http).get('/metrics');
    const res = await (header ? req.set('Authorization', header) : req);

    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      success: false,
      message: 'Metrics need the METRICS_TOKEN',
      code: 'UNAUTHENTICATED',
    });
    expect(res.text).not.toContain('chat_sockets_connected');
  });

  it('serves them to the bearer of the token', async () => {
    const res = await request(suite.server.http)
      .get('/metrics')
      .set('Authorization', `Bearer ${token}`);

    expect(res.status).toBe(200);
    expect(res.text).toContain('# TYPE chat_sockets_connected gauge');
  });
});

describe('GET /metrics off (production without METRICS_TOKEN)', () => {
  const suite = useSecureServer({
    NODE_ENV: 'production',
    JWT_SECRET: 'p'.repeat(40),
    MONGODB_URI: 'mongodb://127.0.0.1:27017',
  });

  it('answers 404 and collects nothing, since nobody could read it', async () => {
    const res = await request(suite.server.http).get('/metrics');

    expect(res.status).toBe(404);
    expect(suite.server.metrics).toBeUndefined();
  });
});

describe('METRICS_TOKEN configuration', () => {
  const production = {
    NODE_ENV: 'production',
    JWT_SECRET: 'p'.repeat(40),
    MONGODB_URI: 'mongodb://127.0.0.1:27017',
  };

  it('turns /metrics off in production without a token, and leaves it open in development', () => {
    expect(loadConfig(production).metricsAccess).toBe('off');
    expect(loadConfig({ NODE_ENV: 'development' }).metricsAccess).toBe('open');
    expect(loadConfig({ ...production, METRICS_TOKEN: 'x'.repeat(16) }).metricsAccess).toEqual({
      token: 'x'.repeat(16),
    });
  });

  it('refuses a token shorter than 16 characters', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(ConfigError);
  });
});

describe('production configuration', () => {
  it('refuses to start without MONGODB_URI (the embedded database is in memory), and accepts one', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(40) };
    expect(() => loadConfig(production)).toThrow(/MONGODB_URI is required/);
    expect(loadConfig({ ...production, MONGODB_URI: 'mongodb://db:27017/chat' }).mongodbUri).toBe(
      'mongodb://db:27017/chat',
    );
    expect(loadConfig({ NODE_ENV: 'development' }).mongodbUri).toBeUndefined();
  });
});
