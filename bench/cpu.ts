/**
 * CPU time spent by a server during one measurement, read from /proc (Linux): far steadier than
 * requests/s on a shared machine, since time the host gives to others is not counted. Per request,
 * it shows what each request costs, whatever the load generator managed to send.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

type Stat = { pid: number; comm: string; ppid: number; ms: number };

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may contain spaces; the fields after it are space-separated.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // After comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  const ms = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
  return { pid, comm, ppid: Number(f[1]), ms };
}

function allStats(): Stat[] {
  if (process.platform !== 'linux') return [];
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => stat(Number(d)))
    .filter((s): s is Stat => s !== undefined);
}

/** CPU milliseconds so far of a process and its children (TESSERA_WORKERS' workers), and of every PostgreSQL process. */
export function cpuSnapshot(pid: number | undefined): { serverMs: number; postgresMs: number } {
  const all = allStats();
  const serverMs = pid === undefined ? 0 : all.filter((s) => s.pid === pid || s.ppid === pid).reduce((n, s) => n + s.ms, 0);
  const postgresMs = all.filter((s) => s.comm === 'postgres').reduce((n, s) => n + s.ms, 0);
  return { serverMs, postgresMs };
}
