/**
 * Which failed-sign-in counters limit a login attempt, as pure functions. Three counters, so that an
 * attacker cannot lock everybody out: a strict one per (username, client IP), a looser one per
 * username (guessing from many addresses), and one per client IP (trying many usernames).
 * A success clears its (username, IP) counter; every counter forgets after its window.
 */
import { createHash } from 'node:crypto';

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

export type CounterKind = 'user_ip' | 'user' | 'ip';
export type CounterKey = { kind: CounterKind; key: string };
/** A counter as stored: failures within its window, and seconds until that window ends. */
export type Counter = { kind: CounterKind; failures: number; remainingS: number };

export type LimitDecision = { limited: false } | { limited: true; by: CounterKind; retryAfterS: number };

const hash = (text: string) => createHash('sha256').update(text).digest('base64url');

/** Usernames are looked up case-insensitively, so they are counted that way too. */
export function counterKeys(username: string, ip: string): CounterKey[] {
  const user = username.trim().toLowerCase();
  return [
    { kind: 'user_ip', key: hash(`user_ip\0${user}\0${ip}`) },
    { kind: 'user', key: hash(`user\0${user}`) },
    { kind: 'ip', key: hash(`ip\0${ip}`) },
  ];
}

export function limitFor(kind: CounterKind, limits: LoginLimits): number {
  return kind === 'user_ip' ? limits.perUserAndIp : kind === 'user' ? limits.perUser : limits.perIp;
}

/** Limited when any live counter reached its limit; the wait is that of the longest such window. */
export function decide(counters: Counter[], limits: LoginLimits): LimitDecision {
  const reached = counters.filter((c) => c.remainingS > 0 && c.failures >= limitFor(c.kind, limits));
  if (!reached.length) return { limited: false };
  const longest = reached.reduce((a, b) => (b.remainingS > a.remainingS ? b : a));
  return { limited: true, by: longest.kind, retryAfterS: Math.ceil(longest.remainingS) };
}

/** "1 minute", "15 minutes": whole minutes, rounded up, never zero. */
export function minutesText(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
