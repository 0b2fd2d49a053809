/**
 * The answer cache (SPEC 5, `cache_ttl_s`): the same input to the same hook within the TTL reuses the
 * last answer. The key is a hash of the input without `request_id`, with object keys sorted so member
 * order does not matter. Only successful answers are stored ("no claims" included). Bounded: past
 * `maxEntries` the oldest entry goes. Time comes from `now`.
 */
import { createHash } from 'node:crypto';
import type { HookClaims, HookInput } from './input.ts';

export const DEFAULT_MAX_ENTRIES = 10_000;

/** JSON with object keys sorted at every depth; arrays keep their order. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The cache key of an input: everything but `request_id`. */
export function inputFingerprint(input: HookInput): string {
  const { request_id: _ignored, ...rest } = input;
  return sha256(stableStringify(rest));
}

export type CacheOptions = { now: () => number; maxEntries?: number };
type Entry = { claims: HookClaims | undefined; expiresAt: number };

export class HookCache {
  readonly #now: () => number;
  readonly #max: number;
  /** Insertion order is age order: the first key is the oldest. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: CacheOptions) {
    this.#now = options.now;
    this.#max = Math.max(1, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
  }

  get size() {
    return this.#entries.size;
  }

  /** The stored answer (a copy), or undefined when there is none or it expired. */
  get(key: string): { claims: HookClaims | undefined } | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (this.#now() >= e.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return { claims: e.claims === undefined ? undefined : structuredClone(e.claims) };
  }

  set(key: string, claims: HookClaims | undefined, ttlMs: number) {
    if (ttlMs <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { claims: claims === undefined ? undefined : structuredClone(claims), expiresAt: this.#now() + ttlMs });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }
}
