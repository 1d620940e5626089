import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Actor } from '../../chat/types';
import { AppError } from '../../lib/errors';
import { bearerToken, type TokenVerifier } from '../../lib/jwt';
import type { RateLimits } from '../../lib/rate-limits';

export type ActorLoader = (userId: string) => Promise<Actor | null>;

/**
 * Requires `Authorization: Bearer <jwt>` naming an existing user; puts the actor
 * on res.locals. Each request spends one unit of the user's request budget
 * (429 beyond it), after the signature is checked, so an anonymous caller cannot
 * spend someone else's, and before the user is read, so a flood of valid-token
 * requests is refused without touching the database.
 */
export function authenticate(
  verifier: TokenVerifier,
  loadActor: ActorLoader,
  limits: RateLimits,
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = bearerToken(req.headers.authorization);
      if (!token) throw new AppError('UNAUTHENTICATED', 'Missing bearer token');
      const { userId } = verifier.verify(token);
      await limits.consume('request', userId);
      const actor = await loadActor(userId);
      if (!actor) throw new AppError('UNAUTHENTICATED', 'User no longer exists');
      res.locals.actor = actor;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** The authenticated caller of a request that passed `authenticate`. */
export function actorOf(res: Response): Actor {
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw new AppError('UNAUTHENTICATED');
  return actor;
}
