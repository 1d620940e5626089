import { Types } from 'mongoose';
import { User } from '../../models';
import { userRoom } from '../../src/realtime/rooms';
import { createConversation, createUsers, type TestUser } from '../factories';
import { emitAck, record, settle, waitFor, type ConnectOptions } from '../helpers/realtime';
import {
  QUIET_MS,
  horseTrustMessage,
  joinHorseTrust,
  recordAll,
  useRealtimeSuite,
} from '../helpers/realtime-suite';
import { badTokens, tokenFor } from '../helpers/tokens';

type ConnectError = Error & { data?: unknown };

describe('Socket.IO handshake', () => {
  const suite = useRealtimeSuite();

  async function participantsAndOutsider(): Promise<{
    a: TestUser;
    b: TestUser;
    outsider: TestUser;
    conv: string;
  }> {
    const [a, b, outsider] = await createUsers(3);
    return { a, b, outsider, conv: await createConversation([a, b]) };
  }

  /** The refusal the client saw; also proves no socket of that user reached the server. */
  async function refusal(
    userId: string,
    token: string | null,
    options?: ConnectOptions,
  ): Promise<ConnectError> {
    const error = await suite.connect(token, options).then(
      () => {
        throw new Error('handshake was accepted');
      },
      (err: ConnectError) => err,
    );
    expect(await suite.server.realtime.io.in(userRoom(userId)).fetchSockets()).toHaveLength(0);
    return error;
  }

  const accepted: Array<[string, (token: string) => ConnectOptions]> = [
    ['auth.token (Horse Trust)', (token) => ({ auth: { token } })],
    ['auth.token with a Bearer prefix', (token) => ({ auth: { token: `Bearer ${token}` } })],
    [
      'an Authorization: Bearer header',
      (token) => ({ auth: {}, extraHeaders: { Authorization: `Bearer ${token}` } }),
    ],
    ['a token query value', (token) => ({ auth: {}, query: { token } })],
  ];

  it('accepts every supported way of presenting the token, each socket acting as the token’s user', async () => {
    const { a, b, outsider, conv } = await participantsAndOutsider();
    const sb = await suite.connect(b.token);
    const so = await suite.connect(outsider.token);
    await joinHorseTrust(sb, conv);
    const outsiderSaw = recordAll(so);
    const received = record(sb, 'new_message');

    for (const [i, [how, options]] of accepted.entries()) {
      const sa = await suite.connect(null, options(a.token));
      const ack = await emitAck(sa, 'send_message', { conversation_id: conv, text: how });
      const expected = horseTrustMessage({ conv, sender: a, text: how, seq: i + 1 });
      expect({ how, ack }).toEqual({ how, ack: { success: true, data: expected } });
      await waitFor(() => received.length === i + 1);
    }

    expect(received).toEqual(
      accepted.map(([how], i) => horseTrustMessage({ conv, sender: a, text: how, seq: i + 1 })),
    );
    await settle(QUIET_MS);
    expect(outsiderSaw).toEqual([]);
  });

  it('puts the socket in its user’s personal room only', async () => {
    const { a } = await participantsAndOutsider();
    const sa = await suite.connect(a.token);
    const [serverSide] = await suite.server.realtime.io.in(userRoom(a.id)).fetchSockets();
    expect(serverSide.id).toBe(sa.id);
    expect([...serverSide.rooms].sort()).toEqual([sa.id, userRoom(a.id)].sort());
  });

  const refused: Array<[string, (user: TestUser) => string | null, RegExp]> = [
    ['no token at all', () => null, /^Authentication required/],
    ['an empty token', () => '', /^Authentication required/],
    ['a malformed token', () => badTokens.malformed(), /^Invalid token$/],
    ['an expired token', (u) => badTokens.expired(u.id), /^Token expired$/],
    ['a token signed with another key', (u) => badTokens.wrongKey(u.id), /^Invalid token$/],
    ['an alg:none token', (u) => badTokens.algNone(u.id), /^Invalid token$/],
    [
      'a token without a user claim',
      () => badTokens.noUserClaim(),
      /^Token does not name a valid user$/,
    ],
  ];

  it.each(refused)(
    'refuses %s with connect_error and a clear message',
    async (_what, tokenOf, message) => {
      const { a } = await participantsAndOutsider();
      const error = await refusal(a.id, null, { auth: { token: tokenOf(a) } });

      expect(error.message).toMatch(message);
      expect(error.data).toEqual({ code: 'UNAUTHENTICATED' });
    },
  );

  it('refuses a valid signature for a user that is not in the database', async () => {
    const ghost = new Types.ObjectId().toString();
    const error = await refusal(ghost, tokenFor(ghost));
    expect(error.message).toBe('User no longer exists');
  });

  it('refuses a user deleted after the token was issued', async () => {
    const { a } = await participantsAndOutsider();
    await User.deleteOne({ _id: a.id });
    expect((await refusal(a.id, a.token)).message).toBe('User no longer exists');
  });

  it('never trusts a Karmyq query.userId on its own', async () => {
    const { a } = await participantsAndOutsider();
    const error = await refusal(a.id, null, { auth: {}, query: { userId: a.id } });
    expect(error.message).toMatch(/^Authentication required/);
  });

  it('refuses a query.userId that names someone other than the token’s user, and accepts the same one', async () => {
    const { a, b } = await participantsAndOutsider();

    const error = await refusal(a.id, a.token, {
      auth: { token: a.token },
      query: { userId: b.id },
    });
    const karmyq = await suite.connect(a.token, {
      auth: { token: a.token },
      query: { userId: a.id },
    });

    expect(error.message).toBe('query.userId does not match the authenticated user');
    expect(karmyq.connected).toBe(true);
  });

  it.each<[string, (token: string) => ConnectOptions]>([
    ['header', (token) => ({ auth: {}, extraHeaders: { Authorization: `Bearer ${token}` } })],
    ['query', (token) => ({ auth: {}, query: { token } })],
  ])('checks a token passed in the %s as strictly as auth.token', async (_where, options) => {
    const { a } = await participantsAndOutsider();
    expect((await refusal(a.id, null, options(badTokens.expired(a.id)))).message).toBe(
      'Token expired',
    );
    expect((await refusal(a.id, null, options(badTokens.algNone(a.id)))).message).toBe(
      'Invalid token',
    );
  });

  it('refuses a non-Bearer Authorization header', async () => {
    const { a } = await participantsAndOutsider();
    const error = await refusal(a.id, null, {
      auth: {},
      extraHeaders: { Authorization: `Basic ${a.token}` },
    });
    expect(error.message).toMatch(/^Authentication required/);
  });
});
