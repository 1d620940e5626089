import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mongoose from 'mongoose';
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
