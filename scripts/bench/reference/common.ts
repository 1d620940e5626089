import type { Server as HttpServer } from 'node:http';
import jwt from 'jsonwebtoken';

/**
 * What every reference server shares: its environment (PORT, MONGODB_URI,
 * JWT_SECRET, set by the bench runner) and the token check. Deliberately bare:
 * references measure the floor a feature cannot go below, not a product.
 */
export interface ReferenceEnv {
  port: number;
  mongoUri: string;
  jwtSecret: string;
}

export function referenceEnv(): ReferenceEnv {
  const { PORT, MONGODB_URI, JWT_SECRET } = process.env;
  if (!PORT || !MONGODB_URI || !JWT_SECRET) {
    throw new Error('reference servers need PORT, MONGODB_URI and JWT_SECRET');
  }
  return { port: Number(PORT), mongoUri: MONGODB_URI, jwtSecret: JWT_SECRET };
}

/** The user id a token speaks for (HS256, `sub`), or null. */
export function userIdFromToken(token: unknown, secret: string): string | null {
  if (typeof token !== 'string') return null;
  try {
    const claims = jwt.verify(token, secret, { algorithms: ['HS256'] });
    return typeof claims === 'object' && typeof claims.sub === 'string' ? claims.sub : null;
  } catch {
    return null;
  }
}

export function listen(http: HttpServer, port: number): Promise<void> {
  return new Promise((resolve) => http.listen(port, '127.0.0.1', () => resolve()));
}

/** Exits cleanly on SIGTERM (so --cpu-prof profiles get written). */
export function exitOnSignal(close: () => Promise<void>): void {
  const stop = () => {
    close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
