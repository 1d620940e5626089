/**
 * Prints a token for a user id, signed like the marketplace's (HS256 with JWT_SECRET,
 * or the development default). Usage: npm run token -- <userId> [--expires-in seconds]
 */
import { loadConfig } from '../src/config';
import { isObjectIdString } from '../src/chat/ids';
import { signUserToken } from '../src/lib/jwt';

const USAGE = 'Usage: npm run token -- <userId (24 hex characters)> [--expires-in seconds]';
const [userId, flag, value] = process.argv.slice(2);
const expiresIn = flag === '--expires-in' ? Number(value) : undefined;
const badExpiry = expiresIn !== undefined && !(Number.isInteger(expiresIn) && expiresIn > 0);
if (!isObjectIdString(userId) || (flag !== undefined && flag !== '--expires-in') || badExpiry) {
  console.error(USAGE);
  process.exit(2);
}
const config = loadConfig();
if (!config.jwt.secret) {
  console.error('JWT_PUBLIC_KEY is set: tokens must be signed by the holder of the private key.');
  process.exit(2);
}
console.log(
  signUserToken(userId, config.jwt.secret, {
    expiresIn,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  }),
);
