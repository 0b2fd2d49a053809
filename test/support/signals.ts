import http from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { authorizationRequest, REDIRECT_URI, relyingParty } from './fixtures.ts';
import { signIn, UserAgent } from './browserless.ts';

export const PUSH = 'urn:ietf:rfc:8935';
export const CLAIMS_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/token-claims-change';
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
export const ALL_EVENTS = [CLAIMS_CHANGE, SESSION_REVOKED, CREDENTIAL_CHANGE];

export type Delivery = { path: string; token: string; contentType: string | undefined; authorization: string | undefined };

/**
 * A push receiver (RFC 8935) on loopback: keeps every SET POSTed to it, per path. `failing` paths
 * answer 500 until removed from the set. `next(path)` waits for the next SET on a path.
 */
export async function startSetReceiver() {
  const received: Delivery[] = [];
  const queue = new Map<string, Delivery[]>();
  const waiting = new Map<string, Array<(d: Delivery) => void>>();
  const failing = new Set<string>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '';
      if (failing.has(path)) return void res.writeHead(500).end();
      const d = { path, token: body, contentType: req.headers['content-type'], authorization: req.headers.authorization };
      received.push(d);
      res.writeHead(202).end();
      const w = waiting.get(path)?.shift();
      if (w) w(d);
      else queue.set(path, [...(queue.get(path) ?? []), d]);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    failing,
    next(path: string): Promise<Delivery> {
      const q = queue.get(path);
      if (q?.length) return Promise.resolve(q.shift()!);
      return new Promise((resolve) => waiting.set(path, [...(waiting.get(path) ?? []), resolve]));
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Verifies a SET against the issuer's /jwks: signature, typ secevent+jwt, iss, aud. */
export async function verifySet(issuer: string, token: string, audience: string): Promise<JWTPayload & { sub_id: Record<string, string>; events: Record<string, Record<string, unknown>> }> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const { payload } = await jwtVerify(token, jwks, { issuer, audience, typ: 'secevent+jwt' });
  assert.equal(typeof payload.jti, 'string');
  assert.equal(typeof payload.iat, 'number');
  return payload as never;
}

/** Signs the user in to the client (first party: no consent), so the user holds a grant with it. */
export async function signInTo(issuer: string, client: { client_id: string; client_secret: string }, username: string, password: string, scope: string, agent = new UserAgent()) {
  const rp = await relyingParty(issuer, client.client_id, client.client_secret);
  const { url, verifier, state } = await authorizationRequest(rp, { scope });
  const landed = await signIn(url, issuer, username, password, agent);
  return oidc.authorizationCodeGrant(rp, new URL(landed.url), { pkceCodeVerifier: verifier, expectedState: state });
}

/** A token for the stream management API: client_credentials with scope ssf. */
export async function ssfToken(issuer: string, client: { client_id: string; client_secret: string }) {
  const rp = await relyingParty(issuer, client.client_id, client.client_secret);
  return (await oidc.clientCredentialsGrant(rp, { scope: 'ssf' })).access_token;
}

/** Calls the stream management API. */
export async function ssf(issuer: string, token: string | undefined, method: string, path: string, body?: unknown) {
  const res = await fetch(`${issuer}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** The receiver client's registration: signs users in (privileges and organizations) and manages its stream. */
export const receiverClient = (name: string) => ({
  client_name: name,
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  scope: 'openid privileges organization ssf',
  first_party: true,
});
