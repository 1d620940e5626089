import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mongoose from 'mongoose';
import request from 'supertest';
import { TEST_JWT_SECRET } from './tokens';

/** A whole service process (npm start's code, through tsx), as one node of a cluster. */
export interface ServiceNode {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Starts `src/index.ts` in its own process on a free port, on this test file's
 * database and the given Redis (plus `extraEnv`). Resolves once it logs that it listens.
 */
export function startServiceNode(
  redisUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<ServiceNode> {
  const databaseUri = `${process.env.TEST_MONGODB_URI}/${mongoose.connection.name}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'index.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      LOG_LEVEL: 'info',
      MONGODB_URI: databaseUri,
      REDIS_URL: redisUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      RATE_SEND_PER_SEC: '100000',
      RATE_REQUESTS_PER_SEC: '100000',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('service node did not start within 30s')),
      30000,
    );
    child.once('exit', (code) => reject(new Error(`service node exited (code ${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /"port":(\d+).*listening/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url: `http://127.0.0.1:${match[1]}`,
        process: child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/**
 * The Redis of the multi-node tests (TEST_REDIS_URL, from the global setup), and
 * `describe` or `describe.skip` for them: CI must have one; locally they skip, saying so.
 */
export function clusterTestRedis(label: string): {
  redisUrl: string;
  describeWithRedis: jest.Describe;
} {
  const redisUrl = process.env.TEST_REDIS_URL;
  if (!redisUrl && process.env.CI) {
    throw new Error('CI must provide Redis for the multi-node tests');
  }
  if (!redisUrl)
    console.warn(`[${label}] skipped: no Redis (install redis-server or set REDIS_URL)`);
  return { redisUrl: redisUrl ?? '', describeWithRedis: redisUrl ? describe : describe.skip };
}

/** POST …/messages on one node, as the token's user (a REST send, for the cluster tests). */
export function sendOver(url: string, token: string, conversationId: string, text: string) {
  return request(url)
    .post(`/api/chat/conversations/${conversationId}/messages`)
    .set('Authorization', `Bearer ${token}`)
    .send({ text });
}
