/**
 * No Docker engine runs on CI machines, so `docker compose config` cannot run there.
 * This parses docker-compose.yml and checks the structure we rely on.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

type Service = {
  image?: string;
  build?: unknown;
  healthcheck?: { test?: unknown };
  environment?: Record<string, string>;
  profiles?: string[];
};
const doc = parse(readFileSync('docker-compose.yml', 'utf8')) as {
  services?: Record<string, Service>;
};
const problems: string[] = [];
const services = doc.services ?? {};
for (const name of ['mongo', 'app']) {
  if (!services[name]) problems.push(`service "${name}" is missing`);
  else if (!services[name].healthcheck?.test) problems.push(`service "${name}" has no healthcheck`);
  else if (!services[name].image && !services[name].build)
    problems.push(`service "${name}" has neither image nor build`);
}
if (!String(services.app?.environment?.MONGODB_URI ?? '').includes('replicaSet=')) {
  problems.push('app MONGODB_URI should name the replica set');
}
// Every service running the app has a profile: without one it would also start with the
// scale profile, a node outside the cluster on the same database.
for (const [name, service] of Object.entries(services)) {
  const runsApp = Boolean(service.build) || name.startsWith('app');
  if (runsApp && !(service.profiles ?? []).length) {
    problems.push(`app service "${name}" needs a profile`);
  }
}
// The scale profile: two app replicas on Redis behind a proxy.
for (const name of ['redis', 'app1', 'app2', 'proxy']) {
  if (!services[name]?.healthcheck?.test)
    problems.push(`scale service "${name}" is missing or has no healthcheck`);
}
for (const name of ['app1', 'app2']) {
  if (!String(services[name]?.environment?.REDIS_URL ?? '').startsWith('redis://')) {
    problems.push(`${name} must set REDIS_URL`);
  }
}
if (problems.length > 0) {
  console.error(`docker-compose.yml: ${problems.join('; ')}`);
  process.exit(1);
}
console.log(`docker-compose.yml parses: services ${Object.keys(services).join(', ')}`);
