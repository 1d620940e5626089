import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Actor } from '../../chat/types';
import { AppError } from '../../lib/errors';
import { bearerToken, type TokenVerifier } from '../../lib/jwt';

export type ActorLoader = (userId: string) => Promise<Actor | null>;

/** Requires `Authorization: Bearer <jwt>` naming an existing user; puts the actor on res.locals. */
export function authenticate(verifier: TokenVerifier, loadActor: ActorLoader): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = bearerToken(req.headers.authorization);
      if (!token) throw new AppError('UNAUTHENTICATED', 'Missing bearer token');
      const { userId } = verifier.verify(token);
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
