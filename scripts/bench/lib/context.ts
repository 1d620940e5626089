import path from 'node:path';
import type { CpuPlan } from './cpus';
import { startServer, type ServerProcess } from './processes';

/** What every benchmark gets from run-all: where things are and how to start servers. */
export interface BenchContext {
  root: string;
  /** Compiled src/, models/ and scripts/bench/reference/ (see tsconfig.build.json here). */
  buildDir: string;
  logDir: string;
  /** The connection string of a benchmark's own database. */
  dbUri(dbName: string): string;
  jwtSecret: string;
  cpus: CpuPlan;
  /** Shorter windows, for development runs. */
  quick: boolean;
  /** Measured rounds per arm in benchmarks 1 and 6 (--rounds; more pool more messages). */
  sendRounds: number;
  /** Node flags for the product servers (e.g. --cpu-prof). */
  productNodeArgs: string[];
  redisUrl(): Promise<string | null>;
  log(line: string): void;
}

/** The real service (compiled src/index.ts), pinned to the server core. */
export function startProduct(
  ctx: BenchContext,
  name: string,
  dbName: string,
  extraEnv: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  return startServer({
    name,
    script: path.join(ctx.buildDir, 'src', 'index.js'),
    cpu: ctx.cpus.serverCpu,
    logDir: ctx.logDir,
    nodeArgs: [...ctx.productNodeArgs, ...nodeArgs],
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      MONGODB_URI: ctx.dbUri(dbName),
      JWT_SECRET: ctx.jwtSecret,
      CORS_ORIGINS: '*',
      // Benchmarks measure throughput, not the per-user limiters (which still run on every
      // send and every REST request).
      RATE_SEND_PER_SEC: '100000',
      RATE_REQUESTS_PER_SEC: '100000',
      ...extraEnv,
    },
  });
}

/** Node flags that let the memory benchmark ask a server for a full GC (lib/gc-hook.ts). */
export function gcHookArgs(ctx: BenchContext): string[] {
  return [
    '--expose-gc',
    '--require',
    path.join(ctx.buildDir, 'scripts', 'bench', 'lib', 'gc-hook.js'),
  ];
}

/** A reference server from scripts/bench/reference/, same core, same database. */
export function startReference(
  ctx: BenchContext,
  name: string,
  file: string,
  dbName: string,
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  return startServer({
    name,
    script: path.join(ctx.buildDir, 'scripts', 'bench', 'reference', `${file}.js`),
    cpu: ctx.cpus.serverCpu,
    logDir: ctx.logDir,
    nodeArgs,
    env: {
      NODE_ENV: 'production',
      MONGODB_URI: ctx.dbUri(dbName),
      JWT_SECRET: ctx.jwtSecret,
    },
  });
}
