import { Conversation, Message } from '../../models';
import { createConversation, createUsers } from '../factories';
import { bodyOf } from '../helpers/api';
import { connectReconnecting, emitAck, record, settle, waitFor } from '../helpers/realtime';
import { QUIET_MS, joinHorseTrust } from '../helpers/realtime-suite';
import { expectEnvelope, useSecureServer } from './support';

/**
 * Limits are per user and shared by REST and every socket of that user. The send
 * budget (2 per second, no burst) is spent within a few milliseconds, far inside
 * one window, so the outcome does not depend on timing.
 */
describe('rate limits', () => {
  const suite = useSecureServer({
    RATE_SEND_PER_SEC: '2',
    RATE_SEND_BURST: '0',
    RATE_CONVERSATIONS_PER_HOUR: '2',
    MAX_SOCKETS_PER_USER: '2',
  });

  const rateLimitedAck = {
    success: false,
    message: expect.stringMatching(/too many/i),
    code: 'RATE_LIMITED',
    retryable: true,
    retry_after_ms: expect.any(Number),
  };

  it('answers 429 with Retry-After over REST once the send budget is spent, storing nothing extra', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sb = await suite.connect(b.token);
    await joinHorseTrust(sb, conv);
    const received = record(sb, 'new_message');

    const responses = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        suite.as(a.token).post(`/conversations/${conv}/messages`, { text: `m${i}` }),
      ),
    );

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 429, 429]);
    for (const res of responses.filter((r) => r.status === 429)) {
      const body = expectEnvelope(res, 429, 'RATE_LIMITED');
      expect(body.message).toMatch(/too many/i);
      // The window is one second: the client may retry within it.
      expect(res.headers['retry-after']).toBe('1');
    }
    expect(await Message.countDocuments({ conversation_id: conv })).toBe(2);
    await waitFor(() => received.length === 2);
    await settle(QUIET_MS);
    expect(received).toHaveLength(2);
  });

  it('refuses socket sends over the limit with a RATE_LIMITED ack', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sa = await suite.connect(a.token);

    const acks = await Promise.all(
      [1, 2, 3].map((i) => emitAck(sa, 'send_message', { conversation_id: conv, text: `s${i}` })),
    );

    expect(acks.map((ack) => ack.success)).toEqual([true, true, false]);
    expect(acks[2]).toEqual(rateLimitedAck);
    expect(await Message.countDocuments()).toBe(2);
  });

  it('shares one budget across REST and every socket of the same user, but not across users', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const [sa1, sa2, sb] = await Promise.all([a, a, b].map((u) => suite.connect(u.token)));

    // Spend A's whole budget on the first socket…
    const spent = await Promise.all([
      emitAck(sa1, 'send_message', { conversation_id: conv, text: 'one' }),
      emitAck(sa1, 'send_message', { conversation_id: conv, text: 'two' }),
    ]);
    // …then the second socket and REST are refused, while B still has all of B's.
    const [other, rest, bOne, bTwo] = await Promise.all([
      emitAck(sa2, 'send_message', { conversation_id: conv, text: 'three' }),
      suite.as(a.token).post(`/conversations/${conv}/messages`, { text: 'four' }),
      emitAck(sb, 'send_message', { conversation_id: conv, text: 'b one' }),
      suite.as(b.token).post(`/conversations/${conv}/messages`, { text: 'b two' }),
    ]);

    expect(spent.map((ack) => ack.success)).toEqual([true, true]);
    expect(other).toEqual(rateLimitedAck);
    expectEnvelope(rest, 429, 'RATE_LIMITED');
    expect(rest.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(bOne.success).toBe(true);
    expect(bTwo.status).toBe(201);
    const texts = (await Message.find().lean()).map((m) => m.text).sort();
    expect(texts).toEqual(['b one', 'b two', 'one', 'two']);
  });

  it('limits conversation creation per hour; fetching an existing one is not limited', async () => {
    const [a, b, c, d, e] = await createUsers(5);

    const first = await suite.as(a.token).post('/conversations', { recipient_id: b.id });
    const second = await suite.as(a.token).post('/conversations', { recipient_id: c.id });
    const third = await suite.as(a.token).post('/conversations', { recipient_id: d.id });

    expect([first.status, second.status]).toEqual([201, 201]);
    expectEnvelope(third, 429, 'RATE_LIMITED');
    const retryAfter = Number(third.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3000);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await Conversation.countDocuments()).toBe(2);

    // Get-or-create of an existing conversation and plain reads are not creations.
    const again = await suite.as(a.token).post('/conversations', { recipient_id: b.id });
    expect(again.status).toBe(200);
    const id = bodyOf<{ data: { _id: string } }>(first).data._id;
    for (let i = 0; i < 3; i++) {
      expect((await suite.as(a.token).get(`/conversations/${id}`)).status).toBe(200);
    }
    // Another user has a budget of their own.
    expect((await suite.as(e.token).post('/conversations', { recipient_id: d.id })).status).toBe(
      201,
    );
    expect(await Conversation.countDocuments()).toBe(3);
  });

  it('refuses a third socket for the same user with a clear message; others and later sockets are unaffected', async () => {
    const [a, b] = await createUsers(2);
    const first = await suite.connect(a.token);
    await suite.connect(a.token);

    const err = await suite.refused(a.token);

    expect(err.message).toMatch(/too many open connections \(at most 2 per user\)/i);
    expect(err.data).toEqual({ code: 'RATE_LIMITED', retry_after_ms: expect.any(Number) });
    expect(await suite.socketsOf(a.id)).toBe(2);
    // Another user is not counted against A.
    expect((await suite.connect(b.token)).connected).toBe(true);
    // Once one of A's sockets is gone, A may open a new one.
    first.close();
    await waitFor(() => suite.server.realtime.io.sockets.sockets.size === 2);
    const replacement = await suite.connect(a.token);
    expect(replacement.connected).toBe(true);
    expect(await suite.socketsOf(a.id)).toBe(2);
  });

  it('counts a recovering socket like a new one: the cap holds across drops and recoveries', async () => {
    const [a] = await createUsers(1);
    const recovering = await connectReconnecting(suite.server.url, a.token);
    recovering.io.reconnection(false);
    recovering.io.engine.close(); // its session waits for recovery
    await waitFor(() => suite.server.realtime.io.sockets.sockets.size === 0);
    await suite.connect(a.token);
    await suite.connect(a.token);

    const refused = new Promise<Error>((resolve) => recovering.once('connect_error', resolve));
    recovering.connect();

    expect((await refused).message).toMatch(/too many open connections/i);
    expect(await suite.socketsOf(a.id)).toBe(2);
    recovering.close();
  });

  it('admits exactly the cap when many handshakes of one user arrive at once', async () => {
    const [a] = await createUsers(1);

    const attempts = await Promise.allSettled(
      Array.from({ length: 12 }, () => suite.connect(a.token)),
    );

    expect(attempts.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(await suite.socketsOf(a.id)).toBe(2);
  });
});

/**
 * Every authenticated REST request, reads included, spends one unit of the
 * user's request budget (3 per second here, no burst), checked before the user
 * is read from the database.
 */
describe('the REST request budget', () => {
  const suite = useSecureServer({ RATE_REQUESTS_PER_SEC: '3', RATE_REQUESTS_BURST: '0' });

  it('answers 429 with Retry-After once a user has spent it, on reads and writes alike, and not for other users', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);

    const reads = await Promise.all(
      Array.from({ length: 3 }, () => suite.as(a.token).get('/conversations')),
    );
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200]);

    const overRead = await suite.as(a.token).get(`/conversations/${conv}/messages`);
    expectEnvelope(overRead, 429, 'RATE_LIMITED');
    expect(bodyOf<{ message: string }>(overRead).message).toMatch(/too many requests/i);
    expect(overRead.headers['retry-after']).toBe('1');

    // A send refused by the request budget stores nothing.
    const overSend = await suite.as(a.token).post(`/conversations/${conv}/messages`, { text: 'x' });
    expectEnvelope(overSend, 429, 'RATE_LIMITED');
    expect(await Message.countDocuments({ conversation_id: conv })).toBe(0);

    // Another user's budget is their own; a request without a valid token spends nobody's.
    expect((await suite.as(b.token).get('/conversations')).status).toBe(200);
    expect((await suite.as('not.a.jwt').get('/conversations')).status).toBe(401);
  });

  it('refills with time: the next window answers again', async () => {
    const [a] = await createUsers(1);
    const first = await Promise.all(
      Array.from({ length: 4 }, () => suite.as(a.token).get('/conversations')),
    );
    expect(first.map((r) => r.status).sort()).toEqual([200, 200, 200, 429]);

    await settle(1100);
    expect((await suite.as(a.token).get('/conversations')).status).toBe(200);
  });
});
