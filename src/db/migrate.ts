import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Database } from './connect.ts';

const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

// Our own source so the TypeScript migrations load through the same loader as the rest of the code.
const source: Knex.MigrationSource<string> = {
  async getMigrations() {
    const files = await readdir(migrationsDir);
    return files.filter((f) => /^\d+_.+\.(ts|js)$/.test(f)).sort();
  },
  getMigrationName(file) {
    return file.replace(/\.(ts|js)$/, '');
  },
  async getMigration(file) {
    return import(pathToFileURL(path.join(migrationsDir, file)).href) as Promise<Knex.Migration>;
  },
};

/** Brings the schema up to date; safe to run from several instances at once (knex takes a lock). */
export async function migrateLatest(db: Database): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: source, tableName: 'knex_migrations' })) as [number, string[]];
  return applied;
}
