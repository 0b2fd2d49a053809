/**
 * PostgreSQL servers for the fault tests. `ownPostgres()` is a private server (initdb into a temp
 * folder, 127.0.0.1 on a free port, its socket in that folder) that a test may stop and start
 * again: a real outage. `sharedDatabase()` is a throwaway database on the machine's server (or
 * TEST_DATABASE_URL as given). Every wait is bounded.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/server.ts';
import { throwawayDatabase, type ThrowawayDatabase } from '../../support/database.ts';

const run = promisify(execFile);

/** The newest PostgreSQL installed under /usr/lib/postgresql, or undefined. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

export type OwnPostgres = {
  url: string;
  port: number;
  start(): Promise<void>;
  stopImmediate(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: a server that keeps its sockets open and answers nothing. */
  freeze(): void;
  /** SIGCONT to the same processes (and any frozen earlier); safe to call when not frozen. */
  thaw(): void;
  destroy(): Promise<void>;
};

/** The postmaster's pid (first line of postmaster.pid) and its children's, read from /proc. */
function serverPids(data: string): number[] {
  const pidFile = path.join(data, 'postmaster.pid');
  if (!existsSync(pidFile)) return [];
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after its ')'.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

/** initdb + pg_ctl start in a temp folder. PostgreSQL refuses to run as root, so as root it runs as `postgres`. */
export async function ownPostgres(bin = postgresBin()): Promise<OwnPostgres> {
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const uid = Number(stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const pgRun = (tool: string, args: string[], timeout = 60_000) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { timeout }) : run(path.join(bin, tool), args, { timeout });

  const port = await freePort();
  let running = false;
  let frozen: number[] = [];
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone already
      }
    }
  };
  const server: OwnPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      // -w waits until it accepts connections (bounded by -t).
      const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c max_connections=40`;
      await pgRun('pg_ctl', ['start', '-D', data, '-w', '-t', '30', '-l', path.join(dir, 'log'), '-o', opts]);
      running = true;
    },
    async stopImmediate() {
      // Immediate mode: the server exits at once, connections cut without a goodbye, like a crash.
      await pgRun('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '30']);
      running = false;
    },
    freeze() {
      // The postmaster first, so it starts no new backend that would escape the freeze.
      frozen = serverPids(data);
      signal(frozen.slice(0, 1), 'SIGSTOP');
      frozen = [...new Set([...frozen, ...serverPids(data)])];
      signal(frozen.slice(1), 'SIGSTOP');
    },
    thaw() {
      signal(frozen, 'SIGCONT');
      frozen = [];
    },
    async destroy() {
      server.thaw();
      try {
        if (running) await server.stopImmediate();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
    await server.start();
  } catch (err) {
    await server.destroy().catch(() => {});
    throw err;
  }
  return server;
}

/** TEST_DATABASE_URL as given (never dropped), else a fresh database on 127.0.0.1:5432 that drop() removes. */
export async function sharedDatabase(): Promise<ThrowawayDatabase> {
  if (process.env.TEST_DATABASE_URL) return { url: process.env.TEST_DATABASE_URL, drop: async () => {} };
  return throwawayDatabase('postgres://postgres@127.0.0.1:5432/postgres', 'tessera_faults');
}
