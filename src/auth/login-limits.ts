/**
 * Which sign-in counters limit a login attempt, as pure functions. Three counters, so that an
 * attacker cannot lock everybody out: a strict one per (username, client IP), a looser one per
 * username (guessing from many addresses), and one per client IP (trying many usernames).
 * A browser that signed in as the user before (a device cookie, src/auth/device-cookie.ts) is counted
 * per device instead of per (username, IP) and per username: strangers' failures cannot lock it out.
 * Every attempt is counted before its password is checked; a success clears its own (username, IP)
 * or device counter and gives its attempt back to the others; every counter forgets after its window.
 */
import { createHash } from 'node:crypto';
import { usernameKey } from '../model/username.ts';

export type LoginLimits = {
  /** Failures allowed per (username, IP) within the window. */
  perUserAndIp: number;
  /** Failures allowed per username from any address. */
  perUser: number;
  /** Failures allowed per client IP for any username. */
  perIp: number;
  windowS: number;
};

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perUserAndIp: 5, perUser: 20, perIp: 100, windowS: 900 };

export type CounterKind = 'user_ip' | 'user' | 'ip' | 'device';
export type CounterKey = { kind: CounterKind; key: string };
/** A counter and the number of attempts it lets through per window. */
export type LimitedKey = CounterKey & { limit: number };
/** A counter as stored: failures within its window, and seconds until that window ends. */
export type Counter = { kind: CounterKind; failures: number; remainingS: number };

export type LimitDecision = { limited: false } | { limited: true; by: CounterKind; retryAfterS: number };

const hash = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * The counters of one attempt, its own first (cleared by a success). Usernames are counted by the key
 * they are looked up by. `device`: the id of a valid device cookie for this username, if the browser has one.
 */
export function counterKeys(username: string, ip: string, limits: LoginLimits, device?: string): LimitedKey[] {
  const user = usernameKey(username);
  const ipKey = { kind: 'ip' as const, key: hash(`ip\0${ip}`), limit: limits.perIp };
  if (device) return [{ kind: 'device', key: hash(`device\0${user}\0${device}`), limit: limits.perUserAndIp }, ipKey];
  return [
    { kind: 'user_ip', key: hash(`user_ip\0${user}\0${ip}`), limit: limits.perUserAndIp },
    { kind: 'user', key: hash(`user\0${user}`), limit: limits.perUser },
    ipKey,
  ];
}

/**
 * The counters of a second-factor attempt (a code after the password): the same limits and window
 * as passwords, per (user, IP) and per user on counters of their own, and the address's shared one.
 */
export function codeCounterKeys(userId: string, ip: string, limits: LoginLimits): LimitedKey[] {
  return [
    { kind: 'user_ip', key: hash(`code\0user_ip\0${userId}\0${ip}`), limit: limits.perUserAndIp },
    { kind: 'user', key: hash(`code\0user\0${userId}`), limit: limits.perUser },
    { kind: 'ip', key: hash(`ip\0${ip}`), limit: limits.perIp },
  ];
}

/**
 * The counters of a "Forgot your password?" request: per name asked for (any address) at the
 * per-(username, IP) limit, so one account's mailbox is not flooded, and per address at the per-IP one.
 */
export function forgotCounterKeys(name: string, ip: string, limits: LoginLimits): LimitedKey[] {
  return [
    // The name as accounts are looked up by (NFKC, lower case): spellings of one name share a counter.
    { kind: 'user', key: hash(`forgot\0user\0${usernameKey(name.trim())}`), limit: limits.perUserAndIp },
    { kind: 'ip', key: hash(`forgot\0ip\0${ip}`), limit: limits.perIp },
  ];
}

export function limitFor(kind: CounterKind, limits: LoginLimits): number {
  return kind === 'user_ip' || kind === 'device' ? limits.perUserAndIp : kind === 'user' ? limits.perUser : limits.perIp;
}

/** Limited when any live counter reached its limit; the wait is that of the longest such window. */
export function decide(counters: Counter[], limits: LoginLimits): LimitDecision {
  const reached = counters.filter((c) => c.remainingS > 0 && c.failures >= limitFor(c.kind, limits));
  if (!reached.length) return { limited: false };
  const longest = reached.reduce((a, b) => (b.remainingS > a.remainingS ? b : a));
  return { limited: true, by: longest.kind, retryAfterS: Math.ceil(longest.remainingS) };
}

/** "1 minute", "15 minutes": whole minutes, rounded up, never zero. */
/** A wait in whole minutes, at least one, as the sign-in page tells it. */
export const minutesOf = (seconds: number): number => Math.max(1, Math.ceil(seconds / 60));

export function minutesText(seconds: number): string {
  const minutes = minutesOf(seconds);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
