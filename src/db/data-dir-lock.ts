import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export class DataDirInUse extends Error {}

/**
 * PGlite is one process's database: a second process opening the same folder would corrupt it.
 * A lock file holding the owner's pid turns that into a clear refusal; a stale lock (its process
 * gone, after a crash) is taken over. Its second line names the folder of the owner's socket
 * (src/db/embedded/), which a CLI run beside the server connects to instead.
 */
export function lockDataDir(dataDir: string, socketDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'tessera.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n${socketDir}\n`);
      closeSync(fd);
      const release = () => rmSync(file, { force: true });
      process.once('exit', release);
      return () => {
        process.off('exit', release);
        release();
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = lockOwner(file)?.pid;
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new DataDirInUse(`the embedded database in ${dataDir} is in use by process ${owner}; stop it first, or use DATABASE_URL to share a PostgreSQL server`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new DataDirInUse(`could not lock ${dataDir}`);
}

/** The live process holding the folder and the folder of its socket, if one holds it. */
export function dataDirOwner(dataDir: string): { pid: number; socketDir: string } | undefined {
  const owner = lockOwner(path.join(dataDir, 'tessera.lock'));
  return owner && owner.pid !== process.pid && isAlive(owner.pid) && owner.socketDir ? owner : undefined;
}

function lockOwner(file: string): { pid: number; socketDir: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pid, socketDir] = text.split('\n');
  return Number(pid) ? { pid: Number(pid), socketDir: socketDir ?? '' } : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
