import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { lockDataDir } from '../data-dir-lock.ts';
import { makeDataDirPrivate } from '../private-data-dir.ts';

/**
 * Where `pg` reaches the embedded database: a unix socket, `<host>/.s.PGSQL.<port>` as for PostgreSQL.
 * `lost` settles, with the reason, if the thread ends other than by close() (PGlite failed): the
 * folder is then free again for a new thread.
 */
export type EmbeddedServer = {
  host: string;
  port: number;
  lost: Promise<string>;
  close(): Promise<void>;
  /** Ends the thread at once, as a failure of PGlite does (for the tests of what follows one). */
  kill(): Promise<void>;
};

export const EMBEDDED_PORT = 5432;
// A unix socket's path has at most 107 bytes on Linux.
const MAX_SOCKET_PATH = 100;
const START_MS = 120_000;
const CLOSE_MS = 30_000;

/**
 * Starts the embedded database in a worker thread of this process (src/db/embedded/worker.js):
 * PGlite's CPU then runs beside the event loop rather than on it, and Tessera speaks to it with the
 * same `pg` driver and SQL as to a PostgreSQL server. The socket lives in the private data folder, so
 * only Tessera's own user can connect, and the lock file names it for a CLI run beside the server.
 */
export async function startEmbeddedServer(dataDir: string, onTightened?: (paths: string[]) => void): Promise<EmbeddedServer> {
  const { tightened } = makeDataDirPrivate(dataDir);
  if (tightened.length) onTightened?.(tightened);
  const socketDir = socketDirFor(dataDir);
  const unlock = lockDataDir(dataDir, socketDir);
  const socketPath = path.join(socketDir, `.s.PGSQL.${EMBEDDED_PORT}`);
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { dataDir, socketPath } });
  let exited = false;
  let closing = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve(void (exited = true))));
  let cleaned = false;
  // Once only: after a lost thread, a new one may hold the lock by the time close() comes.
  const cleanUp = () => {
    if (cleaned) return;
    cleaned = true;
    unlock();
    if (socketDir !== dataDir) rmSync(socketDir, { recursive: true, force: true });
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the embedded database in ${dataDir} did not start within ${START_MS / 1000} s`)), START_MS);
      worker.on('message', (msg: { type: string; message?: string }) => {
        if (msg.type === 'listening') resolve();
        if (msg.type === 'failed') reject(new Error(`the embedded database in ${dataDir} failed: ${msg.message}`));
      });
      worker.once('error', reject);
      void exit.then(() => reject(new Error(`the embedded database in ${dataDir} stopped while starting`)));
    });
  } catch (err) {
    await worker.terminate();
    cleanUp();
    throw err;
  } finally {
    clearTimeout(timer);
    worker.removeAllListeners('message');
  }
  // A first start unpacks a ready-made database with its own modes (0666): made private now; what
  // PostgreSQL creates from here on is 0600 already, under the umask set above.
  makeDataDirPrivate(dataDir);
  // Like a connection pool's sockets, the thread does not keep the process alive by itself.
  worker.unref();
  let failure = 'the thread stopped';
  worker.on('message', (msg: { type: string; message?: string }) => {
    if (msg.type === 'failed') failure = `PGlite failed: ${msg.message}`;
  });
  worker.on('error', (err) => (failure = `the thread failed: ${err.message}`));
  const lost = new Promise<string>((resolve) => {
    void exit.then(() => {
      if (closing) return;
      cleanUp();
      resolve(failure);
    });
  });
  return {
    host: socketDir,
    port: EMBEDDED_PORT,
    lost,
    async close() {
      if (closing) return;
      closing = true;
      if (!exited) {
        worker.postMessage({ type: 'close' });
        const closed = new Promise<void>((resolve) => worker.on('message', (msg: { type: string }) => msg.type === 'closed' && resolve()));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, exit, new Promise((r) => (timer = setTimeout(r, CLOSE_MS)))]);
        clearTimeout(timer);
        await worker.terminate();
      }
      cleanUp();
    },
    async kill() {
      await worker.terminate();
    },
  };
}

/** The data folder itself, unless its path is too long for a socket: then a private folder in the temp dir. */
function socketDirFor(dataDir: string): string {
  if (path.join(dataDir, `.s.PGSQL.${EMBEDDED_PORT}`).length <= MAX_SOCKET_PATH) return dataDir;
  return mkdtempSync(path.join(os.tmpdir(), 'tessera-db-'));
}
