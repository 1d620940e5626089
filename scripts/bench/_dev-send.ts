import path from 'node:path';
import { startEmulator } from '../../src/db/emulator';
import { startProduct, startReference, type BenchContext } from './lib/context';
import { planCpus } from './lib/cpus';
import { connectFloorArm, connectProductArm, seedPairs } from './lib/pairs';
import { attachRecipients, describeWindow, runWindow } from './lib/send-load';
import { closeAll } from './lib/sockets';
import { newJwtSecret } from './lib/tokens';

async function main() {
  const rate = Number(process.argv[2] ?? 600);
  const profile = process.argv.includes('--profile');
  const which = process.argv.includes('--floor') ? 'floor' : 'product';
  const cpus = planCpus();
  const emu = await startEmulator();
  const root = path.resolve(__dirname, '..', '..');
  const ctx: BenchContext = {
    root, buildDir: path.join(root, '.cache', 'bench-build'), logDir: path.join(root, 'bench-results', 'logs'),
    dbUri: (db) => `${emu.uri}/${db}`, jwtSecret: newJwtSecret(), cpus, quick: true,
    productNodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${root}/bench-results/profiles`] : [],
    log: console.log, redisUrl: async () => null,
  };
  const seed = await seedPairs(ctx, 'dev', 200);
  const server = which === 'floor' ? await startReference(ctx, 'floor', 'floor-relay', 'dev') : await startProduct(ctx, 'product', 'dev');
  const arm = which === 'floor' ? await connectFloorArm(ctx, 'floor', server.url, seed, server.pid) : await connectProductArm(ctx, 'product', { sender: server.url, recipient: server.url }, seed, [server.pid]);
  attachRecipients(arm.arm);
  console.log(describeWindow(await runWindow(arm.arm, rate, 2000)));
  const { rssKb } = await import('./lib/proc-stats');
  const n = Number(process.env.WINDOWS ?? 3);
  for (let i = 0; i < n; i++) console.log(describeWindow(await runWindow(arm.arm, rate, 4000)), 'rss', (rssKb(server.pid) / 1024).toFixed(0), 'MB');
  closeAll(arm.sockets);
  await server.stop();
  await emu.stop();
}
main();
