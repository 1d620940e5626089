import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Per-process CPU and memory, read from /proc (Linux). */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** CPU time (user + system) the process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Resident set size, in kB. */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** CPU used by `pid` while `work` runs, in milliseconds. */
export async function cpuDuring<T>(pid: number, work: () => Promise<T>): Promise<[T, number]> {
  const before = cpuMs(pid);
  const result = await work();
  return [result, cpuMs(pid) - before];
}
