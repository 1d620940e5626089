import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/project-root';

/**
 * While `npm start` runs on its embedded database, its URI is written here so that
 * `npm run seed` (another process) can reach the same in-memory data.
 */
const FILE = path.join(projectRoot(), '.cache', 'embedded-db-uri');

export function publishEmbeddedUri(uri: string): void {
  mkdirSync(path.dirname(FILE), { recursive: true });
  writeFileSync(FILE, uri);
}

export function readEmbeddedUri(): string | undefined {
  try {
    return readFileSync(FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function clearEmbeddedUri(): void {
  rmSync(FILE, { force: true });
}
