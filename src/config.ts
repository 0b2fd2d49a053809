import path from 'node:path';
import { z } from 'zod';
import { hookFromEnv, type PayloadHookConfig } from './hooks/config.ts';
import { SettingsError } from './errors.ts';
import { DEFAULT_LOGIN_LIMITS, type LoginLimits } from './auth/login-limits.ts';
import { findProjectRoot } from './project-root.ts';
import { parseAllowedHosts, type AddressPolicy } from './hooks/address-policy.ts';
import { DEFAULT_MAX_PROFILE_BYTES } from './model/privileges.ts';
import { DEFAULT_PASSWORD_HASHING } from './auth/password.ts';
import type { PasswordSettings } from './auth/passwords.ts';
import { ACCENT_PATTERN, DEFAULT_BRAND_NAME } from './interactions/brand.ts';
import { webPageUriProblem } from './model/web-uri.ts';

const flag = z
  .string()
  .optional()
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const EnvSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  ISSUER: z.string().url().optional(),
  DATABASE_URL: z.string().optional(),
  TESSERA_DATA_DIR: z.string().default('data'),
  TESSERA_TRUST_PROXY: flag,
  TESSERA_ADMIN_CLIENT_ID: z.string().min(1).optional(),
  TESSERA_ADMIN_CLIENT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  TESSERA_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  // Below OWASP's minimum is refused; 1 GiB per hash is more than any sign-in page should spend.
  TESSERA_PASSWORD_MEMORY_KIB: z.coerce.number().int().min(DEFAULT_PASSWORD_HASHING.memoryKiB).max(1_048_576).default(DEFAULT_PASSWORD_HASHING.memoryKiB),
  TESSERA_PASSWORD_PASSES: z.coerce.number().int().min(DEFAULT_PASSWORD_HASHING.passes).max(20).default(DEFAULT_PASSWORD_HASHING.passes),
  TESSERA_PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).default(2),
  TESSERA_PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(64),
  UV_THREADPOOL_SIZE: z.coerce.number().int().min(1).max(1024).default(4),
  TESSERA_PURGE_INTERVAL_S: z.coerce.number().int().min(1).default(600),
  TESSERA_MAX_TOKEN_BYTES: z.coerce.number().int().min(512).default(8192),
  TESSERA_MAX_PRIVILEGES_PROFILE_BYTES: z.coerce.number().int().min(16).max(1024 * 1024).default(DEFAULT_MAX_PROFILE_BYTES),
  TESSERA_HOOKS_DIR: z.string().default('.'),
  TESSERA_HOOK_ALLOWED_HOSTS: z.string().optional(),
  TESSERA_DB_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(3000),
  TESSERA_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  TESSERA_DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  TESSERA_DB_PREPARED_STATEMENTS: z
    .enum(['1', '0', 'true', 'false', 'yes', 'no'])
    .optional()
    .transform((v) => v === undefined || v === '1' || v === 'true' || v === 'yes'),
  TESSERA_KEYS_REFRESH_S: z.coerce.number().int().min(1).default(60),
  TESSERA_SHUTDOWN_GRACE_S: z.coerce.number().int().min(0).default(10),
  TESSERA_SSF_DELIVERY: z
    .enum(['1', '0', 'true', 'false', 'yes', 'no'])
    .optional()
    .transform((v) => v === undefined || v === '1' || v === 'true' || v === 'yes'),
  TESSERA_SSF_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  TESSERA_SSF_RETRY_BASE_MS: z.coerce.number().int().min(10).max(300_000).default(1000),
  TESSERA_SSF_PAUSE_AFTER: z.coerce.number().int().min(1).max(1000).default(10),
  TESSERA_SSF_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  TESSERA_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(DEFAULT_LOGIN_LIMITS.perUserAndIp),
  TESSERA_LOGIN_MAX_FAILURES_PER_USER: z.coerce.number().int().min(1).default(DEFAULT_LOGIN_LIMITS.perUser),
  TESSERA_LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(DEFAULT_LOGIN_LIMITS.perIp),
  TESSERA_LOGIN_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(DEFAULT_LOGIN_LIMITS.windowS),
  TESSERA_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Mail for password reset links (src/signin/password-reset.ts): an SMTP server, and who the mail is from.
  TESSERA_SMTP_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL').optional(),
  TESSERA_MAIL_FROM: z.string().trim().regex(/^[^\s@<>]+@[^\s@<>]+$|^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/, 'must be an address, such as id@example.com or "Acme <id@example.com>"').optional(),
  TESSERA_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  TESSERA_BRAND_NAME: z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters').default(DEFAULT_BRAND_NAME),
  TESSERA_BRAND_LOGO_URL: z.string().optional(),
  // Written into the stylesheet, so nothing but a hex colour gets through.
  TESSERA_BRAND_ACCENT: z.string().regex(ACCENT_PATTERN, 'must be a hex colour such as #1d4ed8 or #06c').optional(),
});

export type Settings = {
  production: boolean;
  port: number;
  host: string;
  issuer: string;
  database: { url: string } | { dataDir: string };
  /** Longest wait for a PostgreSQL connection (connect and pool acquire); past it a request answers 503. */
  dbTimeoutMs: number;
  /** Longest a PostgreSQL statement may run (statement_timeout, and a client-side deadline just above it); past it a request answers 503. */
  dbStatementTimeoutMs: number;
  /** Connections to PostgreSQL per process (the embedded database always uses one). */
  dbPoolMax: number;
  /** Hot statements as named prepared statements (off for a pooler that cannot keep them). */
  dbPreparedStatements: boolean;
  /** How often a running instance re-reads the signing keys, so a rotation reaches it without a restart. */
  keysRefreshS: number;
  /** After SIGTERM, how long in-flight requests may run before their connections are closed. */
  shutdownGraceS: number;
  /** Shared Signals push delivery: on or off for this instance, and its timings. */
  signals: { enabled: boolean; pollMs: number; retryBaseMs: number; pauseAfter: number; timeoutMs: number };
  trustProxy: boolean;
  adminClient: { id?: string; secret?: string };
  logLevel: z.infer<typeof EnvSchema>['TESSERA_LOG_LEVEL'];
  /** argon2id parameters, and how many hashes run at once and may wait (past it sign-in answers 503). */
  passwords: PasswordSettings;
  purgeIntervalS: number;
  /** An encoded token over this size is a payload hook failure (SPEC 6). */
  maxTokenBytes: number;
  /** A privileges `profile` over this many bytes of JSON is refused (422 at the admin API). */
  maxProfileBytes: number;
  /** Module hooks are resolved from here (`TESSERA_PAYLOAD_HOOK=hooks/x.ts` is relative to it). */
  hooksDir: string;
  /** The project folder (nearest package.json upwards): relative folders above are resolved from it. */
  projectRoot: string;
  /** The global payload hook (TESSERA_PAYLOAD_HOOK or TESSERA_PAYLOAD_HOOK_URL...); a client's own wins. */
  payloadHook: PayloadHookConfig | undefined;
  /** Where a client's own webhook may point: public addresses, plus TESSERA_HOOK_ALLOWED_HOSTS. */
  hookAddressPolicy: AddressPolicy;
  /** Failed sign-ins allowed per (username, IP), username and IP within a window. */
  loginLimits: LoginLimits;
  /** When set, GET /metrics needs it as a bearer token. */
  metricsToken: string | undefined;
  /** Processes serving one port (node:cluster); more than 1 needs PostgreSQL. */
  workers: number;
  /** How every page names the deployment: TESSERA_BRAND_NAME, TESSERA_BRAND_LOGO_URL, TESSERA_BRAND_ACCENT. */
  brand: { name: string; logoUrl?: string; accent?: string };
  /** TESSERA_SMTP_URL and TESSERA_MAIL_FROM: password reset links by mail; without them, none is offered. */
  mail: { url: string; from: string } | undefined;
};

export { SettingsError };

/** Reads the environment once; every refusal is a clear sentence, not a stack trace. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Settings {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new SettingsError(`invalid settings:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  // Relative folders are the project's (see findProjectRoot), the same from any of its sub-folders.
  const root = findProjectRoot(cwd);
  const production = e.NODE_ENV === 'production';
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  const url = new URL(issuer);
  if (production && url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new SettingsError(`NODE_ENV=production refuses the http issuer ${issuer}: use https (behind a TLS proxy, also set TESSERA_TRUST_PROXY=1)`);
  }
  if (e.DATABASE_URL !== undefined && !/^postgres(ql)?:\/\//.test(e.DATABASE_URL)) {
    throw new SettingsError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if ((e.TESSERA_ADMIN_CLIENT_ID === undefined) !== (e.TESSERA_ADMIN_CLIENT_SECRET === undefined)) {
    throw new SettingsError('set both TESSERA_ADMIN_CLIENT_ID and TESSERA_ADMIN_CLIENT_SECRET, or neither');
  }
  if ((e.TESSERA_SMTP_URL === undefined) !== (e.TESSERA_MAIL_FROM === undefined)) {
    throw new SettingsError('set both TESSERA_SMTP_URL and TESSERA_MAIL_FROM, or neither');
  }
  const allowedHosts = parseAllowedHosts(e.TESSERA_HOOK_ALLOWED_HOSTS);
  if ('error' in allowedHosts) throw new SettingsError(`TESSERA_HOOK_ALLOWED_HOSTS: ${allowedHosts.error}`);
  if ('TESSERA_PASSWORD_COST' in env) {
    throw new SettingsError('TESSERA_PASSWORD_COST (scrypt) was replaced by argon2id: remove it, and use TESSERA_PASSWORD_MEMORY_KIB and TESSERA_PASSWORD_PASSES if the defaults do not suit');
  }
  const logo = e.TESSERA_BRAND_LOGO_URL;
  const logoProblem =
    logo === undefined ? undefined : production && logo.startsWith('http:') ? 'NODE_ENV=production needs an https URL' : webPageUriProblem(logo);
  if (logoProblem) throw new SettingsError(`TESSERA_BRAND_LOGO_URL: ${logoProblem}`);
  // Hashing runs on libuv's pool, shared with DNS lookups: at least one thread stays free for them.
  if (e.TESSERA_PASSWORD_HASH_CONCURRENCY >= e.UV_THREADPOOL_SIZE) {
    throw new SettingsError(`TESSERA_PASSWORD_HASH_CONCURRENCY must be below UV_THREADPOOL_SIZE (${e.UV_THREADPOOL_SIZE}), so DNS lookups and hooks keep a thread`);
  }
  return {
    production,
    port: e.PORT,
    host: e.HOST,
    issuer,
    database: e.DATABASE_URL ? { url: e.DATABASE_URL } : { dataDir: path.resolve(root, e.TESSERA_DATA_DIR) },
    dbTimeoutMs: e.TESSERA_DB_TIMEOUT_MS,
    dbStatementTimeoutMs: e.TESSERA_DB_STATEMENT_TIMEOUT_MS,
    dbPoolMax: e.TESSERA_DB_POOL_MAX,
    dbPreparedStatements: e.TESSERA_DB_PREPARED_STATEMENTS,
    keysRefreshS: e.TESSERA_KEYS_REFRESH_S,
    shutdownGraceS: e.TESSERA_SHUTDOWN_GRACE_S,
    signals: { enabled: e.TESSERA_SSF_DELIVERY, pollMs: e.TESSERA_SSF_POLL_MS, retryBaseMs: e.TESSERA_SSF_RETRY_BASE_MS, pauseAfter: e.TESSERA_SSF_PAUSE_AFTER, timeoutMs: e.TESSERA_SSF_TIMEOUT_MS },
    trustProxy: e.TESSERA_TRUST_PROXY,
    adminClient: { id: e.TESSERA_ADMIN_CLIENT_ID, secret: e.TESSERA_ADMIN_CLIENT_SECRET },
    logLevel: e.TESSERA_LOG_LEVEL,
    passwords: {
      memoryKiB: e.TESSERA_PASSWORD_MEMORY_KIB,
      passes: e.TESSERA_PASSWORD_PASSES,
      concurrency: e.TESSERA_PASSWORD_HASH_CONCURRENCY,
      maxWaiting: e.TESSERA_PASSWORD_HASH_QUEUE,
    },
    purgeIntervalS: e.TESSERA_PURGE_INTERVAL_S,
    maxTokenBytes: e.TESSERA_MAX_TOKEN_BYTES,
    maxProfileBytes: e.TESSERA_MAX_PRIVILEGES_PROFILE_BYTES,
    hooksDir: path.resolve(root, e.TESSERA_HOOKS_DIR),
    payloadHook: hookFromEnv(env),
    hookAddressPolicy: allowedHosts.policy,
    loginLimits: {
      perUserAndIp: e.TESSERA_LOGIN_MAX_FAILURES,
      perUser: e.TESSERA_LOGIN_MAX_FAILURES_PER_USER,
      perIp: e.TESSERA_LOGIN_MAX_FAILURES_PER_IP,
      windowS: e.TESSERA_LOGIN_WINDOW_S,
    },
    metricsToken: e.TESSERA_METRICS_TOKEN,
    workers: e.TESSERA_WORKERS,
    projectRoot: root,
    brand: { name: e.TESSERA_BRAND_NAME, logoUrl: e.TESSERA_BRAND_LOGO_URL, accent: e.TESSERA_BRAND_ACCENT },
    mail: e.TESSERA_SMTP_URL && e.TESSERA_MAIL_FROM ? { url: e.TESSERA_SMTP_URL, from: e.TESSERA_MAIL_FROM } : undefined,
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}
