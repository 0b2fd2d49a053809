/**
 * A circuit breaker per hook (SPEC 5): after `threshold` consecutive failures the hook is not called
 * for `cooldownMs`; then one call (half-open probe) goes through: success closes the circuit, failure
 * opens it for another cool-down. Time comes from `now`, so tests advance a clock instead of sleeping.
 */
export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_COOLDOWN_MS = 30_000;

export type BreakerState = 'closed' | 'open' | 'half_open';
export type BreakerOptions = { now: () => number; threshold?: number; cooldownMs?: number };
export type Admission = { allowed: true; probe: boolean } | { allowed: false; retryInMs: number };
/** What a recorded result changed, so the caller can log transitions. */
export type Transition = 'opened' | 'closed' | undefined;

type Entry = { failures: number; openedAt: number | undefined; probeStartedAt: number | undefined };

export class CircuitBreakers {
  readonly #now: () => number;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  /** Only hooks with a failure on record have an entry: a healthy hook costs nothing. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: BreakerOptions) {
    this.#now = options.now;
    this.#threshold = Math.max(1, options.threshold ?? DEFAULT_FAILURE_THRESHOLD);
    this.#cooldownMs = Math.max(0, options.cooldownMs ?? DEFAULT_COOLDOWN_MS);
  }

  state(key: string): BreakerState {
    const e = this.#entries.get(key);
    if (!e || e.openedAt === undefined) return 'closed';
    return this.#now() - e.openedAt < this.#cooldownMs ? 'open' : 'half_open';
  }

  /** May the hook be called now? In half-open, one probe at a time (a probe that never reports expires after a cool-down). */
  admit(key: string): Admission {
    const e = this.#entries.get(key);
    if (!e || e.openedAt === undefined) return { allowed: true, probe: false };
    const now = this.#now();
    const reopensAt = e.openedAt + this.#cooldownMs;
    if (now < reopensAt) return { allowed: false, retryInMs: reopensAt - now };
    if (e.probeStartedAt !== undefined && now - e.probeStartedAt < this.#cooldownMs) return { allowed: false, retryInMs: e.probeStartedAt + this.#cooldownMs - now };
    e.probeStartedAt = now;
    return { allowed: true, probe: true };
  }

  success(key: string): Transition {
    const e = this.#entries.get(key);
    this.#entries.delete(key);
    return e?.openedAt !== undefined ? 'closed' : undefined;
  }

  failure(key: string): Transition {
    const now = this.#now();
    const e = this.#entries.get(key) ?? { failures: 0, openedAt: undefined, probeStartedAt: undefined };
    this.#entries.set(key, e);
    e.failures++;
    if (e.openedAt !== undefined) {
      // A failed probe (or a late failure of a call started before the circuit opened): open again.
      const reopening = e.probeStartedAt !== undefined;
      if (reopening) {
        e.openedAt = now;
        e.probeStartedAt = undefined;
      }
      return reopening ? 'opened' : undefined;
    }
    if (e.failures >= this.#threshold) {
      e.openedAt = now;
      e.probeStartedAt = undefined;
      return 'opened';
    }
    return undefined;
  }
}
