import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gcThreadsModeFrom } from '../../../src/config';
import { gcNodeFlags } from '../../../src/lib/gc-threads';
import { pinnedCommand } from './cpus';
import { freePort } from '../../lib/free-port';
export { freePort };

const live = new Set<ChildProcess>();

/** Kills every server still running (the runner's exit path). */
export function killAllServers(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** A server process under test: spawned pinned, ready once GET /health answers 200. */
export interface ServerProcess {
  name: string;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  /** Compiled entry point (.js). */
  script: string;
  env: Record<string, string>;
  cpu: number | null;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  logDir: string;
}

async function answersHealth(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts `node <script>` on a free port (PORT env), logs to <logDir>/<name>.log.
 * Every server, product or reference, gets the GC flags `npm start` would choose
 * for the CPUs it runs on (src/lib/gc-threads.ts: main-thread GC on one core),
 * so both arms of a comparison run on the same runtime settings.
 */
export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const port = await freePort();
  mkdirSync(spec.logDir, { recursive: true });
  const logFile = path.join(spec.logDir, `${spec.name}.log`);
  const log = createWriteStream(logFile);
  const cpus = spec.cpu === null ? os.availableParallelism() : 1;
  const { command, args } = pinnedCommand(spec.cpu, process.execPath, [
    ...gcNodeFlags(gcThreadsModeFrom(), cpus),
    ...(spec.nodeArgs ?? []),
    spec.script,
  ]);
  const child = spawn(command, args, {
    env: { ...process.env, ...spec.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await answersHealth(url))) {
    if (child.exitCode !== null) {
      throw new Error(
        `${spec.name} exited (code ${child.exitCode}) before answering; see ${logFile}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${spec.name} did not answer /health within 30s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (child.pid === undefined) throw new Error(`${spec.name} has no pid`);
  const pid = child.pid;
  return {
    name: spec.name,
    pid,
    url,
    async stop() {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 2000);
      }
      log.end();
    },
  };
}
