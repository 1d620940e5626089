import type { Socket } from 'socket.io';
import { assertClaimedUser } from '../chat/rules';
import type { Actor } from '../chat/types';
import { AppError, isAppError } from '../lib/errors';
import { bearerToken, type TokenVerifier } from '../lib/jwt';
import type { Logger } from '../lib/logger';

/**
 * The token a client presented: `auth.token` (Horse Trust), else a Bearer
 * Authorization header, else a `token` query value. A Karmyq-style
 * `query.userId` alone is never enough.
 */
export function handshakeToken(handshake: Socket['handshake']): string | undefined {
  const fromAuth: unknown = handshake.auth?.token;
  if (typeof fromAuth === 'string' && fromAuth.length > 0)
    return fromAuth.replace(/^Bearer\s+/i, '');
  const fromHeader = bearerToken(handshake.headers.authorization);
  if (fromHeader) return fromHeader;
  const fromQuery: unknown = handshake.query?.token;
  return typeof fromQuery === 'string' && fromQuery.length > 0 ? fromQuery : undefined;
}

/** Socket.IO middleware: refused handshakes reach the client as `connect_error` with a clear message. */
export interface ConnectionLimit {
  /** How many sockets the user has open across every node. */
  socketsOf(userId: string): Promise<number>;
  maxSocketsPerUser: number;
}

export function handshakeAuth(
  verifier: TokenVerifier,
  loadActor: (userId: string) => Promise<Actor | null>,
  logger: Logger,
  limit?: ConnectionLimit,
) {
  return async (socket: Socket, next: (err?: Error) => void) => {
    try {
      const token = handshakeToken(socket.handshake);
      if (!token) throw new AppError('UNAUTHENTICATED', 'Authentication required: pass auth.token');
      const { userId, expiresAt } = verifier.verify(token);
      // A Karmyq client also names its user in the query: never trusted, and it must be the token's.
      assertClaimedUser(socket.handshake.query?.userId, userId, 'query.userId');
      const actor = await loadActor(userId);
      if (!actor) throw new AppError('UNAUTHENTICATED', 'User no longer exists');
      // A recovering socket counts too: its old connection closed and left the room.
      // Counted last, right before the socket is admitted (and joins its room): counted
      // before the user's read, concurrent handshakes all passed it (4 of 12 with a cap of 2).
      if (limit && (await limit.socketsOf(userId)) >= limit.maxSocketsPerUser) {
        throw AppError.rateLimited(
          1000,
          `Too many open connections (at most ${limit.maxSocketsPerUser} per user)`,
        );
      }
      socket.data.actor = actor;
      socket.data.tokenExpiresAt = expiresAt;
      next();
    } catch (err) {
      const appError = isAppError(err) ? err : new AppError('DATABASE_UNAVAILABLE');
      if (!isAppError(err)) logger.warn({ err }, 'handshake could not be checked');
      const refusal = new Error(appError.message) as Error & { data?: unknown };
      refusal.data = {
        code: appError.code,
        ...(appError.retryAfterMs ? { retry_after_ms: appError.retryAfterMs } : {}),
      };
      next(refusal);
    }
  };
}
