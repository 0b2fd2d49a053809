import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * The embedded database's folder holds the signing keys, cookie keys and client secrets (in its WAL,
 * in clear): only Tessera's own user may read it, whatever the umask. The folder and every folder in
 * it become 0700 and every file 0600; what was wider is reported so the start can warn. The process
 * umask becomes 077, so files PGlite creates later (new WAL segments) are private from the start.
 */
export function makeDataDirPrivate(dataDir: string): { tightened: string[] } {
  // Worker threads cannot change the umask; the main thread of the process running PGlite can.
  try {
    process.umask(0o077);
  } catch {
    // the chmod below still tightens what exists
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tightened: string[] = [];
  const visit = (entry: string) => {
    const stat = lstatSync(entry);
    if (stat.isSymbolicLink()) return; // PGlite makes none; a link's target is not ours to change
    const wanted = stat.isDirectory() ? 0o700 : 0o600;
    if ((stat.mode & 0o777 & ~wanted) !== 0) {
      chmodSync(entry, (stat.mode & 0o777 & wanted) | (stat.isDirectory() ? 0o700 : 0));
      tightened.push(path.relative(dataDir, entry) || '.');
    }
    if (stat.isDirectory()) for (const name of readdirSync(entry)) visit(path.join(entry, name));
  };
  visit(dataDir);
  return { tightened };
}
