/**
 * npm run bench: the benchmark suite, bounded to a few minutes. Compiles the
 * service and the references, starts one database (MONGODB_URI, else the
 * emulator) and, for the two-node benchmark, one Redis (REDIS_URL, else a
 * throwaway redis-server), pins servers and load to different cores, runs every
 * benchmark with its reference in the same run, prints each figure with its
 * ratio, writes bench-results/latest.json and prints a Markdown table.
 *
 * Flags: --only=send,memory,history,list,two-nodes  --quick (short windows)
 *        --rounds=N (measured rounds per arm in benchmarks 1 and 6; default 12)
 *        (env BENCH_NODE_ARGS: extra node flags for the product servers, e.g. --trace-gc)
 *        --profile (product servers run with --cpu-prof into bench-results/profiles)
 *        --no-build (reuse .cache/bench-build as it is)
 * `npm run bench` gives this process (the load generator) a 64 MB young generation, so
 * that its own collections seldom delay the receipts it times (README, Method).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { startEmulator } from '../../src/db/emulator';
import { startLocalRedis, type LocalRedis } from '../lib/local-redis';
import { runConversationList } from './conversation-list';
import { runHistory } from './history';
import type { BenchContext } from './lib/context';
import { planCpus } from './lib/cpus';
import { killAllServers } from './lib/processes';
import { describeFigure, jsonFigure, markdownTable, type BenchOutcome } from './lib/report';
import { newJwtSecret } from './lib/tokens';
import { runMemory } from './memory';
import { DEFAULT_SEND_ROUNDS, runSendDeliver } from './send-deliver';
import { runTwoNodes } from './two-nodes';

const { MongoClient } = mongoose.mongo;
const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'bench-results');
/** Hard bound of the whole run with the default rounds, whatever happens. */
const HARD_LIMIT_MS = 10 * 60 * 1000;
/** What one more round adds at most: two arms' windows in benchmarks 1 and 6, with drains. */
const EXTRA_ROUND_MS = 15 * 1000;
const MAX_ROUNDS = 200;

const BENCHES: Array<[string, (ctx: BenchContext) => Promise<BenchOutcome>]> = [
  ['send', runSendDeliver],
  ['memory', runMemory],
  ['history', runHistory],
  ['list', runConversationList],
  ['two-nodes', runTwoNodes],
];

function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : (arg.split('=')[1] ?? '');
}

/** A bad command line: printed as its message alone, before anything starts. */
class UsageError extends Error {}

/** --rounds=N: a whole number of measured rounds, 2–200. */
function sendRounds(): number {
  const value = flag('rounds');
  if (value === undefined) return DEFAULT_SEND_ROUNDS;
  const rounds = Number(value);
  if (!Number.isInteger(rounds) || rounds < 2 || rounds > MAX_ROUNDS) {
    throw new UsageError(`--rounds must be a whole number from 2 to ${MAX_ROUNDS}`);
  }
  return rounds;
}

function build(log: (line: string) => void, reuse: boolean): string {
  const outDir = path.join(ROOT, '.cache', 'bench-build');
  if (reuse && existsSync(path.join(outDir, 'src', 'index.js'))) {
    log(`reusing the previous build in ${path.relative(ROOT, outDir)}`);
    return outDir;
  }
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.build.json')],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    // tsc still emits on type errors; carry on if it did, but say so.
    log(`warning: tsc reported errors (compiled output used anyway):\n${result.stdout}`);
  }
  if (!existsSync(path.join(outDir, 'src', 'index.js')))
    throw new Error('build produced no output');
  log(`compiled service + references in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return outDir;
}

/** mongodb://host[:port][,…] and its ?options, so each benchmark gets its own database. */
function splitMongoUri(uri: string): { base: string; query: string } {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!match) throw new Error('MONGODB_URI must look like mongodb://host:port[/db][?options]');
  return { base: match[1], query: match[2] ?? '' };
}

/**
 * Drops the databases a benchmark used, so that the next one does not run on its
 * leftovers. A real MongoDB would barely notice them; the emulator holds them on
 * its JVM heap, where benchmark 4's 100,000 messages made benchmark 6's writes pay
 * for collections of half a second. Its JVM is then asked to collect at once
 * (jcmd), between benchmarks rather than during one.
 */
async function releaseDatabases(uris: string[], emulatorPid: number | undefined): Promise<void> {
  for (const uri of uris) {
    const client = await MongoClient.connect(uri);
    try {
      await client.db().dropDatabase();
    } finally {
      await client.close();
    }
  }
  if (emulatorPid !== undefined) {
    spawnSync('jcmd', [String(emulatorPid), 'GC.run'], { stdio: 'ignore', timeout: 30_000 });
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const log = (line: string) => console.log(line);
  const only = flag('only')?.split(',').filter(Boolean);
  const selected = BENCHES.filter(([name]) => !only || only.includes(name));
  const quick = flag('quick') !== undefined;
  const rounds = sendRounds();
  const hardLimitMs = HARD_LIMIT_MS + Math.max(0, rounds - DEFAULT_SEND_ROUNDS) * EXTRA_ROUND_MS;
  const cpus = planCpus();
  log(`bench: ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`);
  log(`pinning: ${cpus.note}`);

  const buildDir = build(log, flag('no-build') !== undefined);
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    killAllServers();
    for (const stop of cleanups.reverse()) await stop().catch(() => undefined);
  };
  const watchdog = setTimeout(() => {
    console.error(`bench exceeded ${(hardLimitMs / 60000).toFixed(0)} minutes: stopping`);
    void cleanup().finally(() => process.exit(2));
  }, hardLimitMs);
  watchdog.unref();
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  let dbKind = 'MONGODB_URI';
  let mongoUri = process.env.MONGODB_URI;
  let emulatorPid: number | undefined;
  if (!mongoUri) {
    const emulator = await startEmulator();
    cleanups.push(() => emulator.stop());
    mongoUri = emulator.uri;
    dbKind = emulator.kind;
    emulatorPid = emulator.pid;
  }
  const { base, query } = splitMongoUri(mongoUri);
  log(`database: ${dbKind}`);

  const usedDatabases = new Set<string>();
  let redis: Promise<LocalRedis | null> | undefined;
  const profileDir = path.join(RESULTS, 'profiles');
  const ctx: BenchContext = {
    root: ROOT,
    buildDir,
    logDir: path.join(RESULTS, 'logs'),
    dbUri: (dbName) => {
      usedDatabases.add(dbName);
      return `${base}/${dbName}${query}`;
    },
    jwtSecret: newJwtSecret(),
    cpus,
    quick,
    sendRounds: rounds,
    productNodeArgs: [
      ...(flag('profile') !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      // Diagnostics, e.g. BENCH_NODE_ARGS=--trace-gc (product logs in bench-results/logs).
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
    log,
    async redisUrl() {
      if (process.env.REDIS_URL) return process.env.REDIS_URL;
      redis ??= startLocalRedis().then((r) => {
        if (r) cleanups.push(() => r.stop());
        return r;
      });
      return (await redis)?.url ?? null;
    },
  };

  const outcomes: Array<{ name: string; outcome?: BenchOutcome; error?: string; seconds: number }> =
    [];
  try {
    for (const [name, run] of selected) {
      const t0 = performance.now();
      log(`\n== ${name}`);
      try {
        const outcome = await run(ctx);
        for (const f of outcome.figures) log(describeFigure(f));
        outcomes.push({ name, outcome, seconds: (performance.now() - t0) / 1000 });
      } catch (err) {
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        log(`!! ${name} failed: ${message}`);
        outcomes.push({ name, error: message, seconds: (performance.now() - t0) / 1000 });
      }
      log(`   (${name}: ${((performance.now() - t0) / 1000).toFixed(0)}s)`);
      await releaseDatabases(
        [...usedDatabases].map((db) => `${base}/${db}${query}`),
        emulatorPid,
      ).catch((err: unknown) => log(`warning: could not drop ${name}'s databases: ${String(err)}`));
      usedDatabases.clear();
    }
  } finally {
    await cleanup();
  }

  const figures = outcomes.flatMap((o) => o.outcome?.figures ?? []);
  const seconds = (performance.now() - started) / 1000;
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    path.join(RESULTS, 'latest.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          cpus: os.cpus().length,
          model: os.cpus()[0]?.model,
          node: process.version,
          database: dbKind,
          pinning: cpus.note,
        },
        quick,
        rounds,
        totalSeconds: Math.round(seconds),
        figures: figures.map(jsonFigure),
        benchmarks: outcomes.map((o) => ({
          name: o.name,
          seconds: Math.round(o.seconds),
          error: o.error,
          details: o.outcome?.details,
        })),
      },
      null,
      2,
    )}\n`,
  );
  log(`\n${markdownTable(figures)}\n`);
  const missed = figures.filter((f) => f.met === false).length;
  const failed = outcomes.filter((o) => o.error).length;
  log(
    `${figures.length} figures, ${missed} target(s) missed, ${failed} benchmark(s) failed; ` +
      `total ${seconds.toFixed(0)}s; wrote bench-results/latest.json`,
  );
  process.exit(failed ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? `bench: ${err.message}` : err);
  killAllServers();
  process.exit(1);
});
