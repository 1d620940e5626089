import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { gcNodeFlags, gcRunsOnMainThread, MAIN_THREAD_GC_FLAG } from '../../src/lib/gc-threads';

const ROOT = path.resolve(__dirname, '..', '..');

/** What the start command asks for: `exec node $(node dist/src/gc-flags.js) dist/src/index.js`. */
function startFlags(env: Record<string, string>, pinToOneCpu = false) {
  const node = [process.execPath, '--import', 'tsx', path.join(ROOT, 'src', 'gc-flags.ts')];
  const [command, ...args] = pinToOneCpu ? ['taskset', '-c', '0', ...node] : node;
  return spawnSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
}

const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

describe('GC_THREADS: where V8 collects garbage', () => {
  it('keeps collection on the main thread on one CPU, or when asked, and nowhere else', () => {
    expect(gcNodeFlags('auto', 1)).toEqual([MAIN_THREAD_GC_FLAG]);
    expect(gcNodeFlags('auto', 2)).toEqual([]);
    expect(gcNodeFlags('main', 8)).toEqual([MAIN_THREAD_GC_FLAG]);
    expect(gcNodeFlags('default', 1)).toEqual([]);
    expect(gcRunsOnMainThread(['--single-threaded-gc'])).toBe(true);
    expect(gcRunsOnMainThread(['--max-old-space-size=512'])).toBe(false);
  });

  it('is a flag this Node accepts (an unknown V8 flag would stop the service from starting)', () => {
    const run = spawnSync(process.execPath, [...gcNodeFlags('main', 1), '-e', 'process.exit(7)']);
    expect(run.status).toBe(7);
  });

  it('is validated with the rest of the configuration', () => {
    expect(loadConfig({ GC_THREADS: 'main' }).gcThreads).toBe('main');
    expect(loadConfig({}).gcThreads).toBe('auto');
    expect(() => loadConfig({ GC_THREADS: 'parallel' })).toThrow(ConfigError);
  });

  it('prints the flags for the start command, and nothing for a bad value (the service reports it)', () => {
    const main = startFlags({ GC_THREADS: 'main' });
    expect(main.status).toBe(0);
    expect(main.stdout).toBe(MAIN_THREAD_GC_FLAG);
    const defaults = startFlags({ GC_THREADS: 'default' });
    expect(defaults.status).toBe(0);
    expect(defaults.stdout).toBe('');
    const bad = startFlags({ GC_THREADS: 'parallel' });
    expect(bad.status).toBe(0);
    expect(bad.stdout).toBe('');
  });

  it('starts the server in place of the shell, so a SIGTERM to `npm start` reaches it', () => {
    const scripts = (
      JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    // The start script as npm runs it (sh -c), the server swapped for one that prints its pid.
    const script = scripts.start
      .replace('$(node dist/src/gc-flags.js)', '')
      .replace('dist/src/index.js', '-e "console.log(process.pid)"');
    expect(script).not.toBe(scripts.start);
    const run = spawnSync('sh', ['-c', script], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(Number(run.stdout.trim())).toBe(run.pid);
  });

  (hasTaskset ? it : it.skip)('sees one CPU when the process is pinned to one (auto)', () => {
    const pinned = startFlags({ GC_THREADS: 'auto' }, true);
    expect(pinned.status).toBe(0);
    expect(pinned.stdout).toBe(MAIN_THREAD_GC_FLAG);
  });
});
