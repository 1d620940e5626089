import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createUser, type TestUser } from '../factories';
import { bodyOf } from '../helpers/api';
import { emitAck } from '../helpers/realtime';
import { badTokens, TEST_JWT_SECRET, tokenFor } from '../helpers/tokens';
import { expectEnvelope, useSecureServer, type SecureServer } from './support';

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token with any header, HMAC-signed by hand (no library refuses to forge it for us). */
function forgeHmac(header: object, claims: object, secret: string | Buffer, hash = 'sha256') {
  const signingInput = `${b64(header)}.${b64(claims)}`;
  const signature = createHmac(hash, secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

const unsigned = (alg: string, claims: object) => `${b64({ alg, typ: 'JWT' })}.${b64(claims)}.`;

type TokenCase = [label: string, token: (user: TestUser) => string];

/** Refused on both doors: 401 envelope on REST, connect_error on the handshake, no socket kept. */
async function expectRefusedEverywhere(suite: SecureServer, user: TestUser, token: string) {
  const res = await suite.as(token).get('/conversations');
  expectEnvelope(res, 401, 'UNAUTHENTICATED');
  expect(res.body).not.toHaveProperty('data');

  const err = await suite.refused(token);
  expect(err.message.length).toBeGreaterThan(0);
  expect(err.data?.code).toBe('UNAUTHENTICATED');
  expect(await suite.socketsOf(user.id)).toBe(0);
}

/** Accepted on both doors, as the token's user. */
async function expectAcceptedEverywhere(suite: SecureServer, user: TestUser, token: string) {
  const res = await suite.as(token).get('/conversations');
  expect({ status: res.status, success: bodyOf<{ success: boolean }>(res).success }).toEqual({
    status: 200,
    success: true,
  });

  const socket = await suite.connect(token);
  expect(socket.connected).toBe(true);
  expect(await suite.socketsOf(user.id)).toBe(1);
  // The socket acts: a refusal here would be about the payload, not the token.
  const ack = await emitAck(socket, 'join_conversation', '0'.repeat(24));
  expect(ack).toMatchObject({ success: false, code: 'CONVERSATION_NOT_FOUND' });
}

describe('JWT battery on an HS256 server (JWT_SECRET)', () => {
  const suite = useSecureServer();
  const claims = (user: TestUser, extra: object = {}) => ({
    sub: user.id,
    iat: now(),
    exp: now() + 3600,
    ...extra,
  });

  const refusals: TokenCase[] = [
    ['alg none (library-built)', (u) => badTokens.algNone(u.id)],
    ['alg "None"', (u) => unsigned('None', claims(u))],
    ['alg "NONE" with a signature left on', (u) => `${unsigned('NONE', claims(u))}c2lnbmF0dXJl`],
    [
      'alg none but the right HMAC appended',
      (u) => {
        const good = tokenFor(u.id).split('.');
        return `${b64({ alg: 'none', typ: 'JWT' })}.${good[1]}.${good[2]}`;
      },
    ],
    ['the wrong secret', (u) => badTokens.wrongKey(u.id)],
    [
      'HS512 with the right secret (algorithm not pinned)',
      (u) => forgeHmac({ alg: 'HS512', typ: 'JWT' }, claims(u), TEST_JWT_SECRET, 'sha512'),
    ],
    [
      'a tampered payload (sub swapped after signing)',
      (u) => {
        const [header, , signature] = tokenFor('0'.repeat(24)).split('.');
        return `${header}.${b64(claims(u))}.${signature}`;
      },
    ],
    ['expired an hour ago', (u) => badTokens.expired(u.id)],
    [
      'expired 30 s ago (beyond the 5 s tolerance)',
      (u) => jwt.sign(claims(u, { exp: now() - 30 }), TEST_JWT_SECRET),
    ],
    ['nbf 60 s in the future', (u) => jwt.sign(claims(u, { nbf: now() + 60 }), TEST_JWT_SECRET)],
    ['nbf 20 s in the future', (u) => jwt.sign(claims(u, { nbf: now() + 20 }), TEST_JWT_SECRET)],
    ['malformed', () => badTokens.malformed()],
    ['no user claim', () => badTokens.noUserClaim()],
    ['sub not an ObjectId', () => jwt.sign({ sub: 'admin' }, TEST_JWT_SECRET)],
    [
      'sub a 12-character string (ObjectId.isValid accepts it)',
      () => jwt.sign({ sub: 'aaaaaaaaaaaa' }, TEST_JWT_SECRET),
    ],
    ['sub 25 hex digits', (u) => jwt.sign({ sub: `${u.id}0` }, TEST_JWT_SECRET)],
    ['sub padded with spaces', (u) => jwt.sign({ sub: ` ${u.id} ` }, TEST_JWT_SECRET)],
    ['sub an operator object', () => jwt.sign({ userId: { $ne: null } }, TEST_JWT_SECRET)],
    ['sub a number', () => jwt.sign({ sub: 12345, id: 6789 }, TEST_JWT_SECRET)],
    ['a valid id of no user', () => tokenFor('0123456789abcdef01234567')],
  ];

  it.each(refusals)(
    'refuses a token with %s on REST and on the handshake',
    async (_label, make) => {
      const user = await createUser();
      await expectRefusedEverywhere(suite, user, make(user));
    },
  );

  it.each<TokenCase>([
    ['a production-style token', (u) => tokenFor(u.id)],
    [
      'nbf 2 s in the future (within the 5 s tolerance)',
      (u) => jwt.sign(claims(u, { nbf: now() + 2 }), TEST_JWT_SECRET),
    ],
    [
      'exp 2 s ago (within the 5 s tolerance)',
      (u) => jwt.sign(claims(u, { exp: now() - 2 }), TEST_JWT_SECRET),
    ],
    [
      'the user id in `userId` only (Horse Trust)',
      (u) => jwt.sign({ userId: u.id }, TEST_JWT_SECRET, { expiresIn: 60 }),
    ],
    [
      'the user id in upper case',
      (u) => jwt.sign({ sub: u.id.toUpperCase() }, TEST_JWT_SECRET, { expiresIn: 60 }),
    ],
  ])('accepts %s on REST and on the handshake', async (_label, make) => {
    const user = await createUser();
    await expectAcceptedEverywhere(suite, user, make(user));
  });
});

describe('JWT battery on an RS256 server (JWT_PUBLIC_KEY)', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const suite = useSecureServer({ JWT_PUBLIC_KEY: publicPem.replace(/\n/g, '\\n') });
  const claims = (user: TestUser) => ({ sub: user.id, exp: now() + 3600 });

  it.each<TokenCase>([
    [
      'HS256 signed with the public key PEM as the HMAC secret (HS/RS confusion)',
      (u) => forgeHmac({ alg: 'HS256', typ: 'JWT' }, claims(u), publicPem),
    ],
    [
      'HS256 signed with the public key DER as the HMAC secret',
      (u) =>
        forgeHmac(
          { alg: 'HS256', typ: 'JWT' },
          claims(u),
          keys.publicKey.export({
            type: 'spki',
            format: 'der',
          }),
        ),
    ],
    ['HS256 signed with JWT_SECRET (only RS256 is pinned)', (u) => tokenFor(u.id)],
    [
      'RS256 signed by another private key',
      (u) => jwt.sign(claims(u), otherKeys.privateKey, { algorithm: 'RS256' }),
    ],
    [
      'RS512 signed by the right private key',
      (u) => jwt.sign(claims(u), keys.privateKey, { algorithm: 'RS512' }),
    ],
    ['alg none', (u) => unsigned('none', claims(u))],
    [
      'RS256 but expired',
      (u) => jwt.sign({ sub: u.id, exp: now() - 3600 }, keys.privateKey, { algorithm: 'RS256' }),
    ],
  ])('refuses %s', async (_label, make) => {
    const user = await createUser();
    await expectRefusedEverywhere(suite, user, make(user));
  });

  it('accepts an RS256 token signed with the matching private key', async () => {
    const user = await createUser();
    const token = jwt.sign(claims(user), keys.privateKey, { algorithm: 'RS256' });
    await expectAcceptedEverywhere(suite, user, token);
  });
});

describe('JWT battery with JWT_ISSUER and JWT_AUDIENCE configured', () => {
  const suite = useSecureServer({ JWT_ISSUER: 'https://market.example', JWT_AUDIENCE: 'chat' });
  const sign = (user: TestUser, options: jwt.SignOptions) =>
    jwt.sign({ sub: user.id }, TEST_JWT_SECRET, { expiresIn: 600, ...options });

  it.each<TokenCase>([
    ['the wrong issuer', (u) => sign(u, { issuer: 'https://evil.example', audience: 'chat' })],
    ['no issuer', (u) => sign(u, { audience: 'chat' })],
    ['the wrong audience', (u) => sign(u, { issuer: 'https://market.example', audience: 'admin' })],
    ['no audience', (u) => sign(u, { issuer: 'https://market.example' })],
    ['a plain production token (neither claim)', (u) => tokenFor(u.id)],
  ])('refuses a token with %s', async (_label, make) => {
    const user = await createUser();
    await expectRefusedEverywhere(suite, user, make(user));
  });

  it('accepts a token with the configured issuer and audience', async () => {
    const user = await createUser();
    const token = sign(user, { issuer: 'https://market.example', audience: 'chat' });
    await expectAcceptedEverywhere(suite, user, token);
  });

  it('accepts an audience list that includes the configured audience', async () => {
    const user = await createUser();
    const token = sign(user, { issuer: 'https://market.example', audience: ['billing', 'chat'] });
    await expectAcceptedEverywhere(suite, user, token);
  });
});
