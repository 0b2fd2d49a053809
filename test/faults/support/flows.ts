/** Small steps the fault tests share: a signed-in user's tokens, and raw token endpoint calls. */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { authorizationRequest, REDIRECT_URI, unique } from '../../support/fixtures.ts';
import { signIn, UserAgent } from '../../support/browserless.ts';
import { cliJson } from '../../support/processes.ts';

export const PASSWORD = 'correct horse battery';

export type Client = { client_id: string; client_secret: string };
export type User = { id: string; username: string };

/** A user and a confidential code-flow client, made with the CLI as an operator would. */
export async function userAndClient(env: Record<string, string>, extraClientArgs: string[] = []): Promise<{ user: User; client: Client }> {
  const user = await cliJson<User>(['user', 'add', '--username', unique('fault'), '--password', PASSWORD, '--email', 'f@example.com', '--email-verified'], env);
  const client = await cliJson<Client>(['client', 'add', '--name', 'Fault app', '--redirect-uri', REDIRECT_URI, ...extraClientArgs], env);
  return { user, client };
}

/** Signs in through the login form (a fresh browser unless given one) and exchanges the code. */
export async function signInForTokens(config: oidc.Configuration, issuer: string, user: User, agent = new UserAgent()) {
  const req = await authorizationRequest(config, { scope: 'openid email offline_access', prompt: 'consent' });
  const landed = await signIn(req.url, issuer, user.username, PASSWORD, agent);
  assert.ok(landed.url.startsWith(REDIRECT_URI), `redirected to the app, got ${landed.url}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
  return { tokens, agent };
}

export type RawAnswer = { status: number; headers: Headers; body: string; json?: Record<string, unknown>; ms: number };

/** One request, timed, bounded by `timeoutMs`; the body parsed as JSON when it is JSON. */
export async function raw(url: string, init: RequestInit = {}, timeoutMs = 20_000): Promise<RawAnswer> {
  const started = Date.now();
  const res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  let json: Record<string, unknown> | undefined;
  if (/json/.test(res.headers.get('content-type') ?? '')) json = JSON.parse(body) as Record<string, unknown>;
  return { status: res.status, headers: res.headers, body, json, ms: Date.now() - started };
}

/** POST /token with client_secret_basic. */
export function tokenRequest(base: string, client: Client, params: Record<string, string>, timeoutMs?: number) {
  return raw(
    `${base}/token`,
    {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    },
    timeoutMs,
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes; returns how long it took, or throws. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** `promise`, or a failure naming `what` after `ms`; the timer is cleared either way. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
