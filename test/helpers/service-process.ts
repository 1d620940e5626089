import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mongoose from 'mongoose';
import { TEST_JWT_SECRET } from './tokens';

/** One line the service wrote: pino JSON on stdout, anything on stderr. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  raw: string;
  /** The parsed pino record, when the line is JSON. */
  json?: Record<string, unknown>;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the test process saw the exit. */
  at: number;
}

/** The real service (src/index.ts through tsx, as `npm start` runs it) in its own process. */
export interface ServiceProcess {
  url: string;
  pid: number;
  logs: LogLine[];
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<ProcessExit>;
  readonly running: boolean;
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the first log line (already written or to come) matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, ms?: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** The pino `msg` of a line ('' for other lines). */
export function logMessage(line: LogLine): string {
  const msg = line.json?.msg;
  return typeof msg === 'string' ? msg : '';
}

const ROOT = path.resolve(__dirname, '..', '..');

/** This test file's database, directly (not through a proxy). */
export function testDatabaseUri(): string {
  return `${process.env.TEST_MONGODB_URI}/${mongoose.connection.name}`;
}

/**
 * Starts the service on a free port with `env` on top of the test defaults
 * (this file's database, the test JWT secret, info logs), and resolves once it
 * logs that it listens. Its logs are kept for assertions.
 */
export function startServiceProcess(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'index.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      LOG_LEVEL: 'info',
      MONGODB_URI: testDatabaseUri(),
      JWT_SECRET: TEST_JWT_SECRET,
      RATE_SEND_PER_SEC: '100000',
      RATE_SEND_BURST: '100000',
      RATE_REQUESTS_PER_SEC: '100000',
      REDIS_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  const collect = (stream: LogLine['stream']) => (raw: string) => {
    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
    } catch {
      // Not every line is pino's (tsx warnings, a crash trace): keep it raw.
    }
    const line: LogLine = { stream, raw, json };
    logs.push(line);
    watchers.forEach((watch) => watch(line));
  };
  createInterface({ input: child.stdout! }).on('line', collect('stdout'));
  createInterface({ input: child.stderr! }).on('line', collect('stderr'));

  let running = true;
  // Should this test worker end without cleaning up, the service must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      process.off('exit', killOnExit);
      resolve({ code, signal, at: Date.now() });
    });
  });

  const waitForLog = (predicate: (line: LogLine) => boolean, ms = 10000): Promise<LogLine> => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(new Error('expected log line did not appear in time'));
      }, ms);
      const watch = (line: LogLine) => {
        if (!predicate(line)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(line);
      };
      watchers.add(watch);
    });
  };

  const stop = async (graceMs = 8000): Promise<void> => {
    if (!running) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      watchers.delete(onLine);
    };
    const fail = (reason: string) => {
      if (settled) return;
      settle();
      void stop(0);
      const tail = logs
        .slice(-10)
        .map((l) => l.raw)
        .join('\n');
      reject(new Error(`service process ${reason}\n${tail}`));
    };
    const onLine = (line: LogLine) => {
      if (settled || !logMessage(line).includes('listening')) return;
      settle();
      resolve({
        url: `http://127.0.0.1:${String(line.json?.port)}`,
        pid: child.pid ?? -1,
        logs,
        exited,
        get running() {
          return running;
        },
        signal: (signal) => {
          if (running) child.kill(signal);
        },
        waitForLog,
        stop,
      });
    };
    const timer = setTimeout(() => fail('did not start within 30s'), 30000);
    watchers.add(onLine);
    void exited.then((exit) => fail(`exited during start (code ${exit.code})`));
  });
}
