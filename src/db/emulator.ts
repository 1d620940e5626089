import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../lib/project-root';

/**
 * The MongoDB wire-compatible emulator (mongo-java-server), for machines where
 * mongodb-memory-server cannot download a real mongod. Its jars are resolved
 * from Maven Central once and cached under .cache/.
 */
const PROJECT_ROOT = projectRoot();
const EMULATOR_DIR = path.join(PROJECT_ROOT, 'scripts', 'mongo-emulator');
const JAR_DIR = path.join(PROJECT_ROOT, '.cache', 'mongo-emulator', 'lib');

export interface RunningDatabase {
  uri: string;
  kind: string;
  /** The emulator's process (the benchmarks ask its JVM to collect between runs). */
  pid?: number;
  stop(): Promise<void>;
}

function jarsPresent(): boolean {
  return existsSync(JAR_DIR) && readdirSync(JAR_DIR).some((f) => f.startsWith('mongo-java-server'));
}

/** Resolves the emulator's jars with Maven if they are not cached yet. */
export function ensureEmulatorJars(): void {
  if (jarsPresent()) return;
  mkdirSync(JAR_DIR, { recursive: true });
  const result = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      path.join(EMULATOR_DIR, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${JAR_DIR}`,
    ],
    { stdio: 'inherit' },
  );
  if (result.status !== 0 || !jarsPresent()) {
    throw new Error(
      'Could not resolve mongo-java-server with Maven (is `mvn` installed and Maven Central reachable?)',
    );
  }
}

/**
 * How the emulator's JVM collects garbage. Its heap is the database: every stored
 * document lives as long as the run, and each request allocates short-lived
 * garbage. Measured on one core (npm run bench, send, GC logs):
 * - the default Serial collector with its large young generation paused every
 *   query for 27-51 ms every few seconds, copying the stored documents between
 *   survivor spaces;
 * - ZGC paused for < 1 ms but, once the heap held ~100,000 documents, its
 *   concurrent marking and barriers on the one core made every update 3-6× dearer
 *   and capped the send rate near 1,400 msg/s;
 * - Serial with a 4 MB young generation and no survivor ageing (a stored document
 *   is copied once, straight to the old generation): young pauses of ~1 ms (p99
 *   4 ms, max 13 ms) and full throughput (~4,700 msg/s). G1 paused up to 90 ms.
 * MONGO_EMULATOR_JAVA_OPTS replaces these (e.g. to add -Xlog:gc).
 */
const EMULATOR_GC_OPTIONS = ['-XX:+UseSerialGC', '-Xmn4m', '-XX:MaxTenuringThreshold=0'];

/** Starts the emulator on a free loopback port; resolves once it listens. */
export async function startEmulator(): Promise<RunningDatabase> {
  ensureEmulatorJars();
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xss4m',
      ...(process.env.MONGO_EMULATOR_JAVA_OPTS ?? EMULATOR_GC_OPTIONS.join(' '))
        .split(' ')
        .filter(Boolean),
      '-cp',
      path.join(JAR_DIR, '*'),
      path.join(EMULATOR_DIR, 'MongoEmulator.java'),
      '0',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('MongoDB emulator did not start within 60s')),
      60000,
    );
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`MongoDB emulator exited early (code ${code})`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^MONGO_EMULATOR_LISTENING (\d+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  child.removeAllListeners('exit');
  // Closing stdin is the emulator's signal to stop; it also dies with us if we crash.
  return {
    uri: `mongodb://127.0.0.1:${port}`,
    kind: 'mongo-java-server emulator (in-memory)',
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin?.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
