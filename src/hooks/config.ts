/**
 * Where a payload hook lives and how it fails (SPEC 5): a webhook `{url, secret}` or a module
 * `{module}` under the hooks directory, each with an optional timeout, failure policy and cache TTL.
 * The same schema validates a client's `payload_hook` setting and the environment.
 */
import { z } from 'zod';
import { SettingsError } from '../errors.ts';

export const DEFAULT_TIMEOUT_MS = 1500;
export const MAX_TIMEOUT_MS = 10_000;
export const MAX_CACHE_TTL_S = 3600;

const timeoutMs = z.number().int().min(1).max(MAX_TIMEOUT_MS).default(DEFAULT_TIMEOUT_MS);
const failure = z.enum(['closed', 'open']).default('closed');
const cacheTtlS = z.number().int().min(0).max(MAX_CACHE_TTL_S).optional();

const httpUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const u = new URL(value);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

/**
 * A path under `hooks/` (as SPEC 5 writes it: `hooks/my-payload.ts`), relative to TESSERA_HOOKS_DIR
 * (the project folder by default), ending .ts, .js or .mjs. Absolute paths, `..` segments,
 * backslashes, NUL bytes and `node_modules` are refused, so a client setting can only name a file the
 * operator put under the hooks directory (not a dependency's entry point).
 */
export const hookModulePath = z
  .string()
  .min(1)
  .max(512)
  .refine((p) => /\.(ts|js|mjs)$/.test(p), 'must end with .ts, .js or .mjs')
  .refine((p) => p.startsWith('hooks/'), 'must be a file under hooks/, such as hooks/my-payload.ts')
  .refine((p) => !p.startsWith('/') && !/^[a-zA-Z]:/.test(p), 'must be a path relative to the hooks directory, not an absolute path')
  .refine((p) => !p.includes('\\') && !p.includes('\0'), 'must use / as separator')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..')
  .refine((p) => !p.split('/').includes('node_modules'), 'must not point into node_modules');

export const WebhookHookConfig = z.strictObject({
  url: httpUrl,
  secret: z.string().min(16, 'must be at least 16 characters').max(1024),
  timeout_ms: timeoutMs,
  failure,
  cache_ttl_s: cacheTtlS,
});

export const ModuleHookConfig = z.strictObject({
  module: hookModulePath,
  timeout_ms: timeoutMs,
  failure,
  cache_ttl_s: cacheTtlS,
});

export const PayloadHookConfig = z.union([WebhookHookConfig, ModuleHookConfig]);

/** A validated hook setting, defaults applied (`timeout_ms`, `failure`). */
export type PayloadHookConfig = z.infer<typeof PayloadHookConfig>;
/** What may be written or stored before validation (defaults optional). Every PayloadHookConfig is one. */
export type PayloadHookConfigInput = z.input<typeof PayloadHookConfig>;
export type WebhookHookConfig = z.infer<typeof WebhookHookConfig>;
export type ModuleHookConfig = z.infer<typeof ModuleHookConfig>;

export const isWebhook = (c: PayloadHookConfig): c is WebhookHookConfig => 'url' in c;

const intFromEnv = (env: NodeJS.ProcessEnv, name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new SettingsError(`${name}: must be a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw.trim());
};

/**
 * The global hook from the environment, or undefined when none is set:
 * `TESSERA_PAYLOAD_HOOK=hooks/my-payload.ts` (a module), or `TESSERA_PAYLOAD_HOOK_URL` with
 * `TESSERA_PAYLOAD_HOOK_SECRET` (a webhook); `TESSERA_PAYLOAD_HOOK_TIMEOUT_MS`,
 * `TESSERA_PAYLOAD_HOOK_FAILURE` and `TESSERA_PAYLOAD_HOOK_CACHE_TTL_S` apply to either.
 * Anything inconsistent is a SettingsError naming the variable (the secret's value is never echoed).
 */
export function hookFromEnv(env: NodeJS.ProcessEnv): PayloadHookConfig | undefined {
  const module = env.TESSERA_PAYLOAD_HOOK || undefined;
  const url = env.TESSERA_PAYLOAD_HOOK_URL || undefined;
  const secret = env.TESSERA_PAYLOAD_HOOK_SECRET || undefined;
  const common = {
    timeout_ms: intFromEnv(env, 'TESSERA_PAYLOAD_HOOK_TIMEOUT_MS'),
    failure: env.TESSERA_PAYLOAD_HOOK_FAILURE || undefined,
    cache_ttl_s: intFromEnv(env, 'TESSERA_PAYLOAD_HOOK_CACHE_TTL_S'),
  };
  const tuned = Object.values(common).some((v) => v !== undefined);
  if (module && (url || secret)) throw new SettingsError('set either TESSERA_PAYLOAD_HOOK (a module) or TESSERA_PAYLOAD_HOOK_URL and TESSERA_PAYLOAD_HOOK_SECRET (a webhook), not both');
  if (!module && !url && !secret) {
    if (tuned) throw new SettingsError('TESSERA_PAYLOAD_HOOK_TIMEOUT_MS, _FAILURE and _CACHE_TTL_S need TESSERA_PAYLOAD_HOOK or TESSERA_PAYLOAD_HOOK_URL');
    return undefined;
  }
  if (!module && (!url || !secret)) throw new SettingsError('set both TESSERA_PAYLOAD_HOOK_URL and TESSERA_PAYLOAD_HOOK_SECRET, or neither');

  const names: Record<string, string> = { url: 'TESSERA_PAYLOAD_HOOK_URL', secret: 'TESSERA_PAYLOAD_HOOK_SECRET', module: 'TESSERA_PAYLOAD_HOOK', timeout_ms: 'TESSERA_PAYLOAD_HOOK_TIMEOUT_MS', failure: 'TESSERA_PAYLOAD_HOOK_FAILURE', cache_ttl_s: 'TESSERA_PAYLOAD_HOOK_CACHE_TTL_S' };
  const candidate = Object.fromEntries(Object.entries(module ? { module, ...common } : { url, secret, ...common }).filter(([, v]) => v !== undefined));
  const parsed = (module ? ModuleHookConfig : WebhookHookConfig).safeParse(candidate);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${names[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`);
    throw new SettingsError(`invalid payload hook settings:\n  ${lines.join('\n  ')}`);
  }
  // Frozen: fixed for the life of the process, so the hook runner checks it once.
  return Object.freeze(parsed.data);
}
