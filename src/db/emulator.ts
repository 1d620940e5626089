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

/** Starts the emulator on a free loopback port; resolves once it listens. */
export async function startEmulator(): Promise<RunningDatabase> {
  ensureEmulatorJars();
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xss4m',
      // On one core (tests, or pinned by the benchmarks) the JVM picks the Serial
      // collector, whose young pauses stalled every query for 27-51 ms every ~3.5 s
      // under load. ZGC pauses for well under a millisecond. (Unlock: JDK 11-14.)
      '-XX:+UnlockExperimentalVMOptions',
      '-XX:+UseZGC',
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
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin?.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
