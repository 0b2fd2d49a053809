import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The project a command runs in: the nearest folder, from `from` upwards, that holds a package.json
 * (the Tessera checkout, or the project that installed it). The default data and hooks folders live
 * there, so `npx tessera` finds the same embedded database from any sub-folder instead of silently
 * creating a new one where it happens to run. Without a package.json above, `from` itself.
 */
export function findProjectRoot(from: string = process.cwd()): string {
  const start = path.resolve(from);
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}
