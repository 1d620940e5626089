/**
 * Reference for benchmark 3: bare Socket.IO with the same connections as the
 * product (token checked at the handshake, each socket in its user's room) and
 * nothing else, so RSS per connection is Socket.IO's own.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { exitOnSignal, listen, referenceEnv, userIdFromToken } from './common';

async function main(): Promise<void> {
  const env = referenceEnv();
  const http = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404).end();
  });
  const io = new Server(http, { perMessageDeflate: false });
  io.use((socket, next) => {
    const userId = userIdFromToken(socket.handshake.auth?.token, env.jwtSecret);
    if (!userId) return next(new Error('Invalid token'));
    socket.data = { userId };
    next();
  });
  io.on('connection', (socket) => {
    const { userId } = socket.data as { userId: string };
    void socket.join(`user:${userId}`);
  });
  await listen(http, env.port);
  exitOnSignal(() => new Promise<void>((resolve) => io.close(() => resolve())));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
