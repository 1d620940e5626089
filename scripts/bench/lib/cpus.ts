import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU pinning: servers on one core, the load generator (this process, plus the
 * database and Redis it starts) on another, so the load never steals the
 * server's core. Falls back to no pinning without `taskset` or with one core.
 */
export interface CpuPlan {
  pinned: boolean;
  /** Core for the servers under test, or null when not pinned. */
  serverCpu: number | null;
  /** Core for the load generator, the database and Redis, or null. */
  loadCpu: number | null;
  note: string;
}

function allowedCpus(): number[] {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const list = /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1];
    if (!list) return [];
    return list.split(',').flatMap((part) => {
      const [from, to] = part.split('-').map(Number);
      return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
    });
  } catch {
    return [];
  }
}

function tasksetWorks(): boolean {
  return spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Decides the plan and pins this process (all its threads) to the load core. */
export function planCpus(): CpuPlan {
  const cpus = allowedCpus();
  if (!tasksetWorks()) {
    return { pinned: false, serverCpu: null, loadCpu: null, note: 'taskset missing: not pinned' };
  }
  if (cpus.length < 2) {
    return { pinned: false, serverCpu: null, loadCpu: null, note: 'one core: not pinned' };
  }
  const [serverCpu, loadCpu] = cpus;
  const self = spawnSync('taskset', ['-a', '-p', '-c', String(loadCpu), String(process.pid)], {
    stdio: 'ignore',
  });
  if (self.status !== 0) {
    return { pinned: false, serverCpu: null, loadCpu: null, note: 'taskset refused: not pinned' };
  }
  return {
    pinned: true,
    serverCpu,
    loadCpu,
    note: `servers on cpu ${serverCpu}; load generator, database and Redis on cpu ${loadCpu}`,
  };
}

/** The command line that runs `command` on `cpu` (or unpinned). */
export function pinnedCommand(
  cpu: number | null,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  if (cpu === null) return { command, args };
  return { command: 'taskset', args: ['-c', String(cpu), command, ...args] };
}
