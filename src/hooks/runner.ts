/**
 * Runs a payload hook for one token response (SPEC 5): validates its setting, answers from the cache
 * when it can, asks the circuit breaker, calls the webhook or module, and logs and counts every
 * failure. It never throws for a hook failure: it says which policy applies and the caller applies it
 * (closed: an OAuth error; open: the token without payload claims).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { PayloadHookConfig, isWebhook, type PayloadHookConfigInput } from './config.ts';
import type { HookClaims, HookInput } from './input.ts';
import { callWebhook } from './webhook.ts';
import { createModuleHooks } from './module.ts';
import { CircuitBreakers, type BreakerOptions } from './circuit-breaker.ts';
import { HookCache, inputFingerprint, stableStringify } from './cache.ts';
import type { CallResult } from './result.ts';
import type { AddressPolicy } from './address-policy.ts';
import { guardedLookup } from './hook-lookup.ts';

export type HookSource = 'webhook' | 'module';
export type FailurePolicy = 'open' | 'closed';

export type HookOutcome =
  | { status: 'ok'; claims: HookClaims | undefined; source: HookSource; cached: boolean }
  | { status: 'failed'; cause: string; policy: FailurePolicy; source: HookSource };

export type HookRunnerOptions = {
  /** Module hooks are resolved, and must stay, under this directory. */
  hooksDir: string;
  log: Logger;
  metrics: Pick<Metrics, 'hookCalls' | 'hookFailures' | 'hookLatency'>;
  /** Milliseconds since the epoch: cache expiry, circuit breaker, signature timestamp. */
  now: () => number;
  /**
   * Where a client's webhook may connect (TESSERA_HOOK_ALLOWED_HOSTS). The global hook (`hookKey`
   * `global`, from the environment) is the operator's own and is not checked.
   */
  addressPolicy: AddressPolicy;
  breaker?: Omit<BreakerOptions, 'now'>;
  cacheMaxEntries?: number;
};

export type HookRunner = {
  /**
   * One hook answer. `hookKey` names whose hook it is (`global`, `client:<id>`): cache entries and
   * circuit state belong to that key and to the hook's target, so changing a client's hook starts afresh.
   */
  run(config: PayloadHookConfigInput, input: HookInput, hookKey: string): Promise<HookOutcome>;
};

/** The `hookKey` of the hook set in the environment. */
export const GLOBAL_HOOK = 'global';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Where the hook points, for logs: a URL without credentials or query, or the module path. */
function target(config: PayloadHookConfig): string {
  if (!isWebhook(config)) return config.module;
  try {
    const u = new URL(config.url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '[invalid url]';
  }
}

type Checked =
  | { ok: true; config: PayloadHookConfig; source: HookSource; policy: FailurePolicy; target: string; fingerprint: string }
  | { ok: false; source: HookSource; policy: FailurePolicy; invalid: string[] };

function checkSetting(raw: PayloadHookConfigInput): Checked {
  const parsed = PayloadHookConfig.safeParse(raw);
  if (!parsed.success) {
    // A stored setting that no longer validates: the policy it asks for, if readable, else closed.
    return {
      ok: false,
      source: raw && typeof raw === 'object' && 'url' in raw ? 'webhook' : 'module',
      policy: (raw as { failure?: unknown } | undefined)?.failure === 'open' ? 'open' : 'closed',
      invalid: parsed.error.issues.map((i) => i.path.join('.') || '(root)'),
    };
  }
  const config = parsed.data;
  return {
    ok: true,
    config,
    source: isWebhook(config) ? 'webhook' : 'module',
    policy: config.failure,
    target: target(config),
    fingerprint: sha256(stableStringify(isWebhook(config) ? { url: config.url, secret: config.secret } : { module: config.module })),
  };
}

export function createHookRunner(options: HookRunnerOptions): HookRunner {
  const { log, metrics, now } = options;
  const modules = createModuleHooks(options.hooksDir);
  const breakers = new CircuitBreakers({ now, ...options.breaker });
  const cache = new HookCache({ now, ...(options.cacheMaxEntries ? { maxEntries: options.cacheMaxEntries } : {}) });
  const guard = { policy: options.addressPolicy, lookup: guardedLookup(options.addressPolicy) };

  function fail(source: HookSource, cause: string, policy: FailurePolicy, outcome: 'failed' | 'short_circuited', fields: Record<string, unknown>): HookOutcome {
    metrics.hookFailures.inc({ source, cause });
    metrics.hookCalls.inc({ source, outcome });
    log.warn('payload hook failed', { ...fields, source, cause, policy });
    return { status: 'failed', cause, policy, source };
  }

  /**
   * A setting, validated, with what names it: once per frozen setting object rather than at every
   * token. A client's setting is one frozen object for as long as its row is kept (read-cache), the
   * environment's for the life of the process; anything else is checked at every call.
   */
  const checked = new WeakMap<object, Checked>();
  function check(raw: PayloadHookConfigInput): Checked {
    const keep = raw !== null && typeof raw === 'object' && Object.isFrozen(raw);
    const known = keep ? checked.get(raw) : undefined;
    if (known) return known;
    const result = checkSetting(raw);
    if (keep) checked.set(raw, result);
    return result;
  }

  async function run(raw: PayloadHookConfigInput, input: HookInput, hookKey: string): Promise<HookOutcome> {
    const base = { client_id: input.client_id, request_id: input.request_id, hook: hookKey };
    const setting = check(raw);
    if (!setting.ok) return fail(setting.source, 'bad_config', setting.policy, 'failed', { ...base, invalid: setting.invalid });
    const { config, source, policy, target: where } = setting;
    // The hook's identity: changing its URL, secret or module gives it a fresh cache and circuit.
    const identity = `${hookKey}#${setting.fingerprint}`;
    const fields = { ...base, target: where };

    const ttlMs = (config.cache_ttl_s ?? 0) * 1000;
    const cacheKey = ttlMs > 0 ? `${identity}#${inputFingerprint(input)}` : undefined;
    if (cacheKey) {
      const hit = cache.get(cacheKey);
      if (hit) {
        metrics.hookCalls.inc({ source, outcome: 'cached' });
        return { status: 'ok', claims: hit.claims, source, cached: true };
      }
    }

    const admission = breakers.admit(identity);
    if (!admission.allowed) return fail(source, 'circuit_open', policy, 'short_circuited', { ...fields, retry_in_ms: admission.retryInMs });

    const started = performance.now();
    let result: CallResult;
    try {
      result = isWebhook(config)
        ? await callWebhook(config, input, { nowSeconds: Math.floor(now() / 1000), ...(hookKey === GLOBAL_HOOK ? {} : { guard }) })
        : await modules.call(config, input);
    } catch (err) {
      result = { ok: false, cause: 'internal_error', detail: (err as Error)?.message?.slice(0, 200) };
    }
    const elapsedMs = performance.now() - started;
    metrics.hookLatency.observe(elapsedMs / 1000, { source });

    if (result.ok) {
      if (breakers.success(identity) === 'closed') log.info('payload hook circuit closed', { ...fields, source });
      if (cacheKey) cache.set(cacheKey, result.claims, ttlMs);
      metrics.hookCalls.inc({ source, outcome: 'ok' });
      // Claim names only: values may be anything a hook sends, personal data included.
      log.debug('payload hook answered', { ...fields, source, duration_ms: Math.round(elapsedMs), claims: Object.keys(result.claims ?? {}).slice(0, 50) });
      return { status: 'ok', claims: result.claims, source, cached: false };
    }
    if (breakers.failure(identity) === 'opened') log.warn('payload hook circuit opened', { ...fields, source, probe: admission.probe });
    return fail(source, result.cause, policy, 'failed', {
      ...fields,
      duration_ms: Math.round(elapsedMs),
      ...(result.detail !== undefined ? { detail: result.detail } : {}),
    });
  }

  return {
    async run(config, input, hookKey) {
      try {
        return await run(config, input, hookKey);
      } catch (err) {
        // Not reachable by any hook answer; kept so a bug here is a counted failure, not a 500.
        const source: HookSource = config && typeof config === 'object' && 'url' in config ? 'webhook' : 'module';
        const policy: FailurePolicy = (config as { failure?: unknown } | undefined)?.failure === 'open' ? 'open' : 'closed';
        return fail(source, 'internal_error', policy, 'failed', { client_id: input?.client_id, hook: hookKey, detail: (err as Error)?.message?.slice(0, 200) });
      }
    },
  };
}
