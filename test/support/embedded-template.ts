import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/**
 * A test's embedded data folder, as PGlite's initdb leaves an empty one, copied from a folder made
 * once per machine and PGlite version. initdb in WebAssembly takes about 4.5 s and a copy about
 * 0.15 s, and the suite starts a few hundred servers. Everything after initdb (Tessera's migrations,
 * keys, the folder made private) still runs at every start; the tests of a first start from an empty
 * or missing folder (readme, cli-data-dir) make their own folders and still pay for initdb.
 */
export async function initdbFolder(): Promise<string> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-test-'));
  cpSync(await template(), dataDir, { recursive: true });
  return dataDir;
}

let made: Promise<string> | undefined;

function template(): Promise<string> {
  made ??= makeTemplate();
  return made;
}

async function makeTemplate(): Promise<string> {
  const manifest = path.join(import.meta.dirname, '../../node_modules/@electric-sql/pglite/package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  const folder = path.join(os.tmpdir(), `tessera-test-initdb-pglite-${version}`);
  if (existsSync(path.join(folder, 'PG_VERSION'))) return folder;
  // Made aside and renamed into place, so another test process never copies half a folder.
  const building = mkdtempSync(path.join(os.tmpdir(), 'tessera-test-initdb-'));
  const db = await PGlite.create(building);
  await db.close();
  try {
    renameSync(building, folder);
  } catch {
    rmSync(building, { recursive: true, force: true }); // another process got there first
  }
  return folder;
}
