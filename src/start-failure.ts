/**
 * Why a start (or a CLI command that opens the database) failed, as one sentence an operator can act
 * on, instead of a driver's stack trace. Undefined for errors it does not recognise.
 */
import type { Settings } from './config.ts';

type ErrorLike = { code?: string; message?: string; syscall?: string; address?: string; port?: number };

/** host:port/database of a DATABASE_URL, never its user or password. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

export function describeStartFailure(err: unknown, settings: Pick<Settings, 'database' | 'host' | 'port'>): string | undefined {
  const e = (err ?? {}) as ErrorLike;
  const message = String(e.message ?? err);
  if (e.syscall === 'listen') {
    if (e.code === 'EADDRINUSE') return `cannot listen on ${settings.host}:${settings.port}: the port is already in use; stop the other process or set PORT to a free port`;
    if (e.code === 'EACCES') return `cannot listen on ${settings.host}:${settings.port}: permission denied; choose a PORT above 1023`;
    if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${settings.host}:${settings.port}: this machine has no such address; check HOST`;
  }
  if (!('url' in settings.database)) return undefined;
  const db = where(settings.database.url);
  const name = decodeURIComponent(new URL(settings.database.url).pathname.slice(1) || 'postgres');
  if (e.code === '3D000') return `the database ${name} does not exist on ${db.split('/')[0]} (DATABASE_URL); create it (createdb ${name}) or fix DATABASE_URL`;
  if (e.code === '28P01' || e.code === '28000') return `PostgreSQL at ${db} refused the user or password in DATABASE_URL`;
  if (e.code && UNREACHABLE.has(e.code)) return `cannot reach PostgreSQL at ${db} (DATABASE_URL): ${e.code}; is it running, and is the host and port right?`;
  // knex's own words when no connection came within TESSERA_DB_TIMEOUT_MS, and pg's on a connect timeout.
  if (/Timeout acquiring a connection|timeout expired|Connection terminated due to connection timeout/i.test(message)) {
    return `cannot reach PostgreSQL at ${db} (DATABASE_URL): no connection within TESSERA_DB_TIMEOUT_MS; is it running, and is the host and port right?`;
  }
  return undefined;
}
