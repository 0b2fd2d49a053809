import type { Database } from '../db/connect.ts';
import type { Counter, CounterKey, CounterKind } from '../auth/login-limits.ts';

// The database clock, not each instance's: instances sharing the database agree on windows.

/** The live counters among `keys`, with the seconds left in each window. */
export async function loginFailureCounters(db: Database, keys: CounterKey[], windowS: number): Promise<Counter[]> {
  const rows = (await db('login_failures')
    .select('kind', 'failures', db.raw("extract(epoch from (window_started_at + ?::int * interval '1 second' - now()))::float8 as remaining_s", [windowS]))
    .whereIn('key', keys.map((k) => k.key))
    .andWhereRaw("window_started_at > now() - ?::int * interval '1 second'", [windowS])) as Array<{ kind: CounterKind; failures: number; remaining_s: number }>;
  return rows.map((r) => ({ kind: r.kind, failures: Number(r.failures), remainingS: Number(r.remaining_s) }));
}

/** Counts one failure on every key: a counter whose window ended starts a new one. */
export async function recordLoginFailure(db: Database, keys: CounterKey[], windowS: number): Promise<void> {
  // One statement for every counter: one round trip, and the counters move together.
  await db.raw(
    `insert into login_failures (key, kind, failures, window_started_at) values ${keys.map(() => '(?, ?, 1, now())').join(', ')}
     on conflict (key) do update set
       failures = case when login_failures.window_started_at > now() - ?::int * interval '1 second' then login_failures.failures + 1 else 1 end,
       window_started_at = case when login_failures.window_started_at > now() - ?::int * interval '1 second' then login_failures.window_started_at else now() end`,
    [...keys.flatMap((k) => [k.key, k.kind]), windowS, windowS],
  );
}

/** A successful sign-in forgets that (username, IP) pair's failures. */
export async function clearLoginFailures(db: Database, key: CounterKey): Promise<void> {
  await db('login_failures').where({ key: key.key }).delete();
}

/** Counters whose window ended long ago: only kept small, they are ignored already. */
export async function purgeLoginFailures(db: Database, windowS: number): Promise<number> {
  return db('login_failures').whereRaw("window_started_at < now() - ?::int * interval '1 second'", [windowS]).delete();
}
