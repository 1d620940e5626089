/**
 * Summarizes a V8 .cpuprofile (from `npm run bench -- --profile`): self time by
 * package and by function, and inclusive time of the heaviest functions.
 * Usage: npx tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

function packageOf(url: string): string {
  if (!url) return '(native/gc/idle)';
  // The innermost package: mongoose bundles its own copy of the mongodb driver.
  const nm = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].pop();
  if (nm) return nm[1];
  if (url.startsWith('node:')) return 'node core';
  const own = /\/(src|models|scripts)\/(.*)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

function top(map: Map<string, number>, n: number, total: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
}

function main(): void {
  const [file, n = '25'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const idle = profile.nodes
    .filter((node) => node.callFrame.functionName === '(idle)')
    .reduce((s, node) => s + (self.get(node.id) ?? 0), 0);
  const busy = total - idle;

  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, hits] of self) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const pkg = packageOf(node.callFrame.url);
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${pkg}:${node.callFrame.lineNumber + 1}`;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
  }

  // Inclusive time per function, counting each function once per stack.
  const inclusive = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const node = byId.get(id);
    if (!node) return 0;
    const key = `${node.callFrame.functionName || '(anonymous)'} ${packageOf(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
    const fresh = !onStack.has(key);
    if (fresh) onStack.add(key);
    let sum = self.get(id) ?? 0;
    for (const child of node.children ?? []) sum += walk(child, onStack);
    if (fresh) {
      onStack.delete(key);
      if (node.callFrame.functionName !== '(idle)' && node.callFrame.functionName !== '(root)') {
        inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
      }
    }
    return sum;
  };
  walk(profile.nodes[0].id, new Set());

  const seconds = (profile.endTime - profile.startTime) / 1e6;
  console.log(`${file}: ${seconds.toFixed(1)}s, busy ${((busy / total) * 100).toFixed(0)}%`);
  console.log('\nself time by package (% of busy):');
  console.log(top(byPackage, Number(n), busy).join('\n'));
  console.log('\nself time by function:');
  console.log(top(byFunction, Number(n), busy).join('\n'));
  console.log('\ninclusive time by function:');
  console.log(top(inclusive, Number(n), busy).join('\n'));
}

main();
