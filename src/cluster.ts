import cluster, { type Worker } from 'node:cluster';
import type { Settings } from './config.ts';
import { SettingsError } from './errors.ts';
import type { Logger } from './log.ts';
import { connectDatabase } from './db/connect.ts';
import { prepareDatabase } from './server.ts';
import { checkGlobalHook } from './hooks/startup-check.ts';
import { printToStdout } from './print.ts';

/** True in the process that supervises workers (TESSERA_WORKERS > 1, before forking). */
export const supervises = (settings: Settings) => settings.workers > 1 && cluster.isPrimary;

/** Log fields naming this worker, so lines from several processes on one port can be told apart. */
export const workerLogFields = (): Record<string, unknown> => (cluster.isWorker ? { worker: cluster.worker!.id } : {});

/**
 * In a worker, the channel to the primary keeps the process alive even once its server and pool are
 * closed. From a stop signal on, it no longer does, so the worker exits when its graceful stop is done.
 */
export function letWorkerExitWhenStopped(): void {
  if (!cluster.isWorker) return;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.channel?.unref());
}

// A worker that dies within this time of its start is replaced only after this delay, so a worker
// that cannot start at all does not spin the CPU.
const RESPAWN_DELAY_MS = 1000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * The primary of TESSERA_WORKERS processes on one port. It does the once-only work first (migrations,
 * keys, the bootstrap admin client, whose generated secret is printed here and only here), then forks
 * the workers, which run the ordinary single-process start and find it all done. Every state lives in
 * the database, so any worker can serve any request. A worker that dies is logged and replaced;
 * SIGTERM or SIGINT stops every worker gracefully, and resolves 0 once they are gone.
 */
export async function superviseWorkers(settings: Settings, log: Logger, print?: (text: string) => void): Promise<number> {
  if (!('url' in settings.database)) {
    throw new SettingsError(`TESSERA_WORKERS=${settings.workers} needs DATABASE_URL: the embedded database folder belongs to one process`);
  }
  // Checked here too: a worker that cannot start would otherwise be replaced, and fail, forever.
  await checkGlobalHook(settings.payloadHook, settings.hooksDir, log);
  const db = connectDatabase(settings.database, { poolMax: 2, timeoutMs: settings.dbTimeoutMs, statementTimeoutMs: settings.dbStatementTimeoutMs });
  try {
    await prepareDatabase(db, settings, log, print ?? printToStdout);
  } finally {
    await db.destroy();
  }

  let stopping = false;
  const live = new Set<Worker>();
  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    const started = Date.now();
    worker.once('exit', (code, signal) => {
      live.delete(worker);
      if (stopping) return;
      log.error('worker died, replacing it', { worker: worker.id, pid: worker.process.pid, code, signal });
      const delay = Date.now() - started < RESPAWN_DELAY_MS ? RESPAWN_DELAY_MS : 0;
      setTimeout(() => stopping || fork(), delay);
    });
  };
  for (let i = 0; i < settings.workers; i++) fork();
  log.info('workers started', { workers: settings.workers });

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  stopping = true;
  log.info('shutting down', { signal, workers: live.size });
  // Each worker finishes its in-flight requests and closes its pool, as a single process would.
  const exits = [...live].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
  for (const w of live) w.process.kill('SIGTERM');
  const timer = setTimeout(() => {
    log.warn('workers still running after the stop timeout; killing them', { workers: live.size });
    for (const w of live) w.process.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  await Promise.all(exits);
  clearTimeout(timer);
  return 0;
}
