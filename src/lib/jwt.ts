import { createPublicKey, createSecretKey } from 'node:crypto';
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import { Types } from 'mongoose';
import type { Config } from '../config';
import { AppError } from './errors';

/**
 * Verifies bearer tokens with a pinned algorithm list, so `alg: none` and
 * HS/RS confusion are refused by construction: HS256 with JWT_SECRET, or RS256
 * with JWT_PUBLIC_KEY when one is configured (never both for the same key).
 */
export interface TokenVerifier {
  /**
   * Returns the user id the token speaks for, and until when (seconds since epoch)
   * this server accepts it: `exp` plus the clock tolerance, so a live socket is
   * suspended exactly when a new request with the same token would be refused.
   * Throws AppError UNAUTHENTICATED.
   */
  verify(token: string): { userId: string; expiresAt: number | undefined };
}

/** Horse Trust tokens carry `userId`; standard ones `sub`; some `id`. */
function userIdFromClaims(claims: JwtPayload): string | undefined {
  for (const key of ['sub', 'userId', 'id'] as const) {
    const value: unknown = claims[key];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

export function createTokenVerifier(jwtConfig: Config['jwt']): TokenVerifier {
  // A KeyObject built once: given a string, jsonwebtoken re-parses (and first tries it as a
  // public key) on every verify, which measurably slowed every request and handshake.
  const key = jwtConfig.publicKey
    ? createPublicKey(jwtConfig.publicKey)
    : jwtConfig.secret
      ? createSecretKey(Buffer.from(jwtConfig.secret))
      : undefined;
  const algorithms: Algorithm[] = jwtConfig.publicKey ? ['RS256'] : ['HS256'];
  if (!key) throw new Error('No JWT key configured');
  return {
    verify(token) {
      let claims: string | JwtPayload;
      try {
        claims = jwt.verify(token, key, {
          algorithms,
          clockTolerance: jwtConfig.clockToleranceSec,
          issuer: jwtConfig.issuer,
          audience: jwtConfig.audience,
        });
      } catch (err) {
        const reason = err instanceof jwt.TokenExpiredError ? 'Token expired' : 'Invalid token';
        throw new AppError('UNAUTHENTICATED', reason);
      }
      if (typeof claims === 'string') throw new AppError('UNAUTHENTICATED', 'Invalid token');
      const userId = userIdFromClaims(claims);
      if (!userId || !Types.ObjectId.isValid(userId) || !/^[0-9a-f]{24}$/i.test(userId)) {
        throw new AppError('UNAUTHENTICATED', 'Token does not name a valid user');
      }
      const expiresAt =
        claims.exp === undefined ? undefined : claims.exp + jwtConfig.clockToleranceSec;
      return { userId: userId.toLowerCase(), expiresAt };
    },
  };
}

/** Signs a token the way the marketplace does (HS256, `sub` + `userId`). For scripts and tests. */
export function signUserToken(
  userId: string,
  secret: string,
  options: { expiresIn?: number; issuer?: string; audience?: string } = {},
): string {
  return jwt.sign({ sub: userId, userId }, secret, {
    algorithm: 'HS256',
    expiresIn: options.expiresIn ?? 60 * 60 * 24,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  });
}

/** Extracts the token from an `Authorization: Bearer <jwt>` header value. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}
