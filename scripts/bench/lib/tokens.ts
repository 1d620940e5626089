import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** A fresh HS256 secret per bench run (64 hex characters, valid in production mode). */
export function newJwtSecret(): string {
  return randomBytes(32).toString('hex');
}

/** A token signed the way the marketplace signs them (`sub` + `userId`, HS256). */
export function tokenFor(userId: string, secret: string): string {
  return jwt.sign({ sub: userId, userId }, secret, { algorithm: 'HS256', expiresIn: 60 * 60 });
}
