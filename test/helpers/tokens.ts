import jwt from 'jsonwebtoken';
import { loadConfig, type Config } from '../../src/config';
import { signUserToken } from '../../src/lib/jwt';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: '0',
    LOG_LEVEL: 'silent',
    // Bursts and concurrency tests send far faster than a person: limits are tested on their own.
    RATE_SEND_PER_SEC: '100000',
    RATE_REQUESTS_PER_SEC: '100000',
    RATE_CONVERSATIONS_PER_HOUR: '100000',
    MAX_SOCKETS_PER_USER: '1000',
    ...overrides,
  });
}

/** A real token, signed exactly like production ones. */
export function tokenFor(userId: string, options: { expiresIn?: number } = {}): string {
  return signUserToken(userId, TEST_JWT_SECRET, options);
}

/** Tokens the service must refuse. */
export const badTokens = {
  expired: (userId: string) =>
    jwt.sign({ sub: userId, exp: Math.floor(Date.now() / 1000) - 3600 }, TEST_JWT_SECRET),
  wrongKey: (userId: string) =>
    jwt.sign({ sub: userId }, 'some-other-secret-that-is-also-long-enough'),
  algNone: (userId: string) =>
    `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: userId, exp: Math.floor(Date.now() / 1000) + 3600 }),
    ).toString('base64url')}.`,
  malformed: () => 'not.a.jwt',
  noUserClaim: () => jwt.sign({ role: 'admin' }, TEST_JWT_SECRET),
};
