import type { Database } from '../db/connect.ts';
import type { Counter, CounterKind, LimitedKey } from '../auth/login-limits.ts';

// The database clock, not each instance's: instances sharing the database agree on windows.

export type Reservation = { reserved: boolean; counters: Counter[] };

const live = "window_started_at > now() - ?::int * interval '1 second'";

/**
 * Counts one attempt on every key, but only if each key is still below its limit: all or nothing, in
 * one statement that locks the counters, so however many attempts arrive at once, at most the limit's
 * number are ever let through to the password check. A counter whose window ended starts a new one.
 * Every write here takes the counters in key order, so two sign-ins sharing counters never deadlock.
 */
export async function reserveLoginAttempt(db: Database, keys: LimitedKey[], windowS: number): Promise<Reservation> {
  // The rows must exist before they can be locked: a concurrent first attempt waits here for the other's insert.
  const inOrder = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  await db.raw(`insert into login_failures (key, kind, failures, window_started_at) values ${inOrder.map(() => '(?, ?, 0, now())').join(', ')} on conflict (key) do nothing`, inOrder.flatMap((k) => [k.key, k.kind]));
  const { rows } = (await db.raw(
    `with wanted (key, lim) as (values ${keys.map(() => '(?::text, ?::int)').join(', ')}),
     locked as (
       select f.key, f.kind,
              case when f.${live} then f.failures else 0 end as failures,
              extract(epoch from (f.window_started_at + ?::int * interval '1 second' - now()))::float8 as remaining_s
       from login_failures f where f.key in (select key from wanted) order by f.key for update
     ),
     verdict as (select coalesce(bool_and(locked.failures < wanted.lim), false) as reserved from locked join wanted using (key)),
     counted as (
       update login_failures f set
         failures = case when f.${live} then f.failures + 1 else 1 end,
         window_started_at = case when f.${live} then f.window_started_at else now() end
       from verdict where verdict.reserved and f.key in (select key from wanted)
       returning f.key
     )
     select locked.kind, locked.failures, locked.remaining_s, verdict.reserved, (select count(*) from counted) as counted
     from locked cross join verdict`,
    [...keys.flatMap((k) => [k.key, k.limit]), windowS, windowS, windowS, windowS],
  )) as { rows: Array<{ kind: CounterKind; failures: number; remaining_s: number; reserved: boolean }> };
  return {
    reserved: rows.length > 0 && rows[0]!.reserved,
    counters: rows.map((r) => ({ kind: r.kind, failures: Number(r.failures), remainingS: Number(r.remaining_s) })),
  };
}

/**
 * A successful sign-in was counted like any attempt: it forgets its own (username, IP) or device
 * counter and gives back the one attempt it took from the others, so only failures remain counted.
 */
export async function forgiveLoginAttempt(db: Database, keys: LimitedKey[]): Promise<void> {
  const [own, ...others] = keys;
  await db('login_failures').where({ key: own!.key }).delete();
  await giveBack(db, others);
}

/** An attempt that was counted but whose password was never checked (hashing too busy) gives its count back. */
export async function releaseLoginAttempt(db: Database, keys: LimitedKey[]): Promise<void> {
  await giveBack(db, keys);
}

/**
 * One count back on each counter. The counters are locked in key order, as reserveLoginAttempt locks
 * them: an update that locked them in the order it found them on disk deadlocked with a sign-in
 * taking the same counters, and the person with the right password saw "Server error".
 */
async function giveBack(db: Database, keys: LimitedKey[]): Promise<void> {
  if (!keys.length) return;
  await db.raw(
    `update login_failures f set failures = greatest(f.failures - 1, 0)
     from (select key from login_failures where key in (${keys.map(() => '?').join(', ')}) order by key for update) l
     where f.key = l.key`,
    keys.map((k) => k.key),
  );
}

/** Counters whose window ended long ago: only kept small, they are ignored already. */
export async function purgeLoginFailures(db: Database, windowS: number): Promise<number> {
  return db('login_failures').whereRaw("window_started_at < now() - ?::int * interval '1 second'", [windowS]).delete();
}
