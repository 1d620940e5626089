import jwt from 'jsonwebtoken';
import { Message, User } from '../../models';
import type { AckBody } from '../../src/realtime/contract';
import { conversationRoom } from '../../src/realtime/rooms';
import { createConversation, createUsers } from '../factories';
import { emitAck, nextEvent, record, settle, waitFor } from '../helpers/realtime';
import { QUIET_MS, joinHorseTrust } from '../helpers/realtime-suite';
import { TEST_JWT_SECRET, badTokens, tokenFor } from '../helpers/tokens';
import { useSecureServer } from './support';

const GRACE_MS = 1500;
/** Tokens live 2 s (whole seconds): expiry lands 1-2 s after signing. */
const SHORT_LIVED_S = 2;
const EXPIRY_WAIT_MS = SHORT_LIVED_S * 1000 + 1500;

/**
 * A live socket whose token expires is suspended (no events out, none in) until it
 * re-authenticates, and disconnected after the grace. Real timers throughout.
 */
describe('token expiry on a live socket', () => {
  // No clock tolerance, so that a socket's token expires exactly at its `exp`.
  const suite = useSecureServer({
    REAUTH_GRACE_MS: String(GRACE_MS),
    JWT_CLOCK_TOLERANCE_SEC: '0',
  });

  async function setup() {
    const [a, b, c] = await createUsers(3);
    const conv = await createConversation([a, b]);
    const sa = await suite.connect(tokenFor(a.id, { expiresIn: SHORT_LIVED_S }));
    const sb = await suite.connect(b.token);
    await Promise.all([joinHorseTrust(sa, conv), joinHorseTrust(sb, conv)]);
    return { a, b, c, conv, sa, sb };
  }

  it('suspends the socket at expiry and restores its rooms on re-authentication', async () => {
    const { a, b, c, conv, sa, sb } = await setup();
    const aMessages = record(sa, 'new_message');
    const aNotifications = record(sa, 'message_notification');

    const notice = await nextEvent(sa, 'token_expired', EXPIRY_WAIT_MS);

    expect(notice).toEqual({
      message: expect.stringMatching(/authenticate/),
      code: 'TOKEN_EXPIRED',
      reauthenticate_within_ms: GRACE_MS,
    });
    // Its events are refused…
    for (const [event, payload] of [
      ['send_message', { conversation_id: conv, text: 'after expiry' }],
      ['join_conversation', conv],
      ['typing', conv],
    ] as const) {
      expect(await emitAck(sa, event, payload)).toMatchObject({
        success: false,
        code: 'TOKEN_EXPIRED',
        message: expect.any(String),
      });
    }
    // …and nothing reaches it, neither room broadcasts nor personal notifications.
    const bSend = await suite
      .as(b.token)
      .post(`/conversations/${conv}/messages`, { text: 'hello?' });
    expect(bSend.status).toBe(201);
    await settle(QUIET_MS);
    expect(aMessages).toEqual([]);
    expect(aNotifications).toEqual([]);
    expect(await Message.countDocuments({ sender_id: a.id })).toBe(0);

    // Another user's token, an expired one or garbage cannot revive it.
    expect(await emitAck(sa, 'authenticate', { token: c.token })).toMatchObject({
      success: false,
      code: 'FORBIDDEN',
    });
    expect(await emitAck(sa, 'authenticate', { token: badTokens.expired(a.id) })).toMatchObject({
      success: false,
      code: 'UNAUTHENTICATED',
    });
    expect(await emitAck(sa, 'authenticate', { token: { $ne: null } })).toMatchObject({
      success: false,
    });
    expect(await emitAck(sa, 'send_message', { conversation_id: conv, text: 'x' })).toMatchObject({
      code: 'TOKEN_EXPIRED',
    });

    // A fresh token of the same user restores the socket, rooms included, without re-joining.
    const renewed = await emitAck(sa, 'authenticate', { token: tokenFor(a.id) });
    expect(renewed).toEqual({ success: true, data: { expires_at: expect.any(String) } });
    const live = nextEvent(sa, 'new_message');
    const notified = nextEvent(sa, 'message_notification');
    await suite.as(b.token).post(`/conversations/${conv}/messages`, { text: 'welcome back' });
    expect(await live).toMatchObject({ text: 'welcome back' });
    expect(await notified).toMatchObject({ conversation_id: conv, preview: 'welcome back' });
    const bGot = nextEvent(sb, 'new_message');
    const ack = await emitAck(sa, 'send_message', { conversation_id: conv, text: 'I am back' });
    expect(ack.success).toBe(true);
    expect(await bGot).toMatchObject({ text: 'I am back' });

    // The grace timer was cancelled: the socket outlives it.
    await settle(GRACE_MS + 300);
    expect(sa.connected).toBe(true);
  });

  it('answers expires_at null (never an internal error) for a token whose exp is past what a date can hold', async () => {
    const [a] = await createUsers(1);
    const sa = await suite.connect(a.token);
    const farFuture = jwt.sign({ sub: a.id, exp: 1e13 }, TEST_JWT_SECRET);

    const ack = await emitAck(sa, 'authenticate', { token: farFuture });

    expect(ack).toEqual({ success: true, data: { expires_at: null } });
    expect(sa.connected).toBe(true);
  });

  it('refuses a fresh token for a user the marketplace deleted, and refreshes a renamed user’s profile', async () => {
    const [a, b, gone] = await createUsers(3);
    const conv = await createConversation([a, b]);
    const [sa, sb, sGone] = await Promise.all([a, b, gone].map((u) => suite.connect(u.token)));
    await Promise.all([
      emitAck(sa, 'join_conversation', { conversation_id: conv, user_id: a.id }),
      emitAck(sb, 'join_conversation', { conversation_id: conv, user_id: b.id }),
    ]);

    await User.deleteOne({ _id: gone.id });
    const refused = await emitAck(sGone, 'authenticate', { token: tokenFor(gone.id) });
    expect(refused).toEqual({
      success: false,
      code: 'UNAUTHENTICATED',
      message: 'User no longer exists',
    });

    // Renamed: the next authenticate takes the new name, which others then see.
    await User.updateOne({ _id: a.id }, { $set: { full_name: 'Renamed Rider' } });
    expect(await emitAck(sa, 'authenticate', { token: tokenFor(a.id) })).toMatchObject({
      success: true,
    });
    const typing = nextEvent(sb, 'user_typing');
    sa.emit('typing_start', { conversation_id: conv, user_id: a.id });
    expect(await typing).toEqual({
      conversation_id: conv,
      user_id: a.id,
      user_name: 'Renamed Rider',
    });
  });

  it('arms no expiry timer for a socket that disconnects while its authenticate reads the user', async () => {
    const [a] = await createUsers(1);
    const sa = await suite.connect(a.token);
    const serverSide = suite.server.realtime.io.sockets.sockets.get(sa.id!);
    expect(serverSide).toBeDefined();
    const timers = jest.spyOn(global, 'setTimeout');
    try {
      // The event and the close leave in one go: the close is handled while the
      // handler waits for the users read.
      sa.emit('authenticate', { token: tokenFor(a.id) });
      sa.disconnect();
      await waitFor(() => serverSide?.connected === false);
      await settle(QUIET_MS);

      const holdingIt = timers.mock.calls.filter((call) =>
        (call.slice(2) as unknown[]).includes(serverSide),
      );
      expect(holdingIt).toEqual([]);
    } finally {
      timers.mockRestore();
    }
  });

  it('leaves no room joined by a join that was in flight when the token expired', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const token = tokenFor(a.id, { expiresIn: SHORT_LIVED_S });
    const expiresAtMs = (jwt.decode(token) as { exp: number }).exp * 1000;
    const sa = await suite.connect(token);
    const notice = nextEvent(sa, 'token_expired', EXPIRY_WAIT_MS);
    const aMessages = record(sa, 'new_message');

    // Joins every millisecond or so across the expiry instant, so that some are
    // reading membership when the suspension takes the socket out of its rooms.
    await settle(Math.max(expiresAtMs - 150 - Date.now(), 0));
    const acks: Promise<AckBody>[] = [];
    while (Date.now() < expiresAtMs + 150) {
      acks.push(emitAck(sa, 'join_conversation', conv));
      await settle(1);
    }
    await notice;
    const answers = await Promise.all(acks);
    await suite
      .as(b.token)
      .post(`/conversations/${conv}/messages`, { text: 'to a suspended socket' })
      .expect(201);
    await settle(QUIET_MS);

    const inRoom = suite.server.realtime.io
      .of('/')
      .adapter.rooms.get(conversationRoom(conv))
      ?.has(sa.id!);
    expect(inRoom ?? false).toBe(false);
    expect(aMessages).toEqual([]);
    expect(answers.filter((ack) => ack.success).length).toBeGreaterThan(0);
    expect(
      answers.filter((ack) => !ack.success).map((ack) => (ack as { code?: string }).code),
    ).toEqual(expect.arrayContaining(['TOKEN_EXPIRED']));
  });

  it('disconnects a socket that does not re-authenticate within the grace; a refreshed one stays', async () => {
    const { a, b, conv, sa, sb } = await setup();
    const refreshed = await suite.connect(tokenFor(b.id, { expiresIn: SHORT_LIVED_S }));
    await joinHorseTrust(refreshed, conv);
    const refreshedNotices = record(refreshed, 'token_expired');
    expect(await emitAck(refreshed, 'authenticate', tokenFor(b.id))).toMatchObject({
      success: true,
    });
    const disconnected = new Promise<string>((resolve) => sa.once('disconnect', resolve));
    await nextEvent(sa, 'token_expired', EXPIRY_WAIT_MS);
    const expiredAt = Date.now();

    const reason = await disconnected;

    expect(reason).toBe('io server disconnect');
    expect(Date.now() - expiredAt).toBeGreaterThanOrEqual(GRACE_MS - 100);
    await waitFor(() => suite.server.realtime.io.sockets.sockets.size === 2);
    expect(await suite.socketsOf(a.id)).toBe(0);
    // The socket that renewed before expiry never got the notice and still works.
    expect(refreshedNotices).toEqual([]);
    expect(refreshed.connected).toBe(true);
    const received = nextEvent(sb, 'new_message');
    expect(
      await emitAck(refreshed, 'send_message', { conversation_id: conv, text: 'still here' }),
    ).toMatchObject({ success: true });
    expect(await received).toMatchObject({ text: 'still here' });
  });
});
