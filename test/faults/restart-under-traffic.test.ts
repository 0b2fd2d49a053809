/**
 * Restart under traffic: several relying parties keep refresh-token chains going against
 * `tessera start` on PostgreSQL; the process is killed with SIGKILL mid-traffic (no shutdown code
 * runs) and started again on the same database and port. For every refresh whose answer the client
 * received, the token it spent stays spent and the newest one works; the refresh whose answer was
 * lost in the crash either never happened (its token works, once) or happened (its token is refused
 * and the client must sign in again): never both, never a 500. Sessions and keys are unchanged.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { testEnv } from '../support/server.ts';
import { authorizationRequest, relyingParty, REDIRECT_URI } from '../support/fixtures.ts';
import type { UserAgent } from '../support/browserless.ts';
import { startServerProcess, type ServerProcess } from '../support/processes.ts';
import { sharedDatabase } from './support/postgres.ts';
import { raw, signInForTokens, tokenRequest, userAndClient, waitFor, within, type Client, type User } from './support/flows.ts';

const BUSY = 4; // refresh back to back until the crash
const RESTING = 2; // refreshed a few times before the traffic, idle at the crash

let database: { url: string; drop(): Promise<void> };
let cleanup = () => {};
let env: Record<string, string>;
const started: ServerProcess[] = [];
let server: ServerProcess;
let user: User;
let client: Client;
let config: oidc.Configuration;

type Chain = { agent: UserAgent; received: string[]; inFlight?: string; busy: boolean };
const chains: Chain[] = [];

before(async () => {
  database = await sharedDatabase();
  ({ env, cleanup } = await testEnv({ DATABASE_URL: database.url }));
  ({ user, client } = await userAndClient(env));
  server = await startServerProcess(env);
  started.push(server);
  config = await relyingParty(env.ISSUER!, client.client_id, client.client_secret);
  // One browser per chain: separate sessions, so separate grants.
  for (let i = 0; i < BUSY + RESTING; i++) {
    const { tokens, agent } = await signInForTokens(config, env.ISSUER!, user);
    chains.push({ agent, received: [tokens.refresh_token!], busy: i < BUSY });
  }
});

after(async () => {
  await Promise.all(started.map((s) => s.kill()));
  cleanup();
  await database?.drop();
});

const refresh = (token: string, timeoutMs = 10_000) => tokenRequest(server.url, client, { grant_type: 'refresh_token', refresh_token: token }, timeoutMs);
const isActive = async (token: string) => {
  const res = await raw(`${server.url}/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }).toString(),
  });
  assert.equal(res.status, 200, res.body);
  return res.json!.active === true;
};

test('SIGKILL while clients refresh, restart: rotation holds for every answer received, sessions and keys survive', async () => {
  const jwksBefore = await (await fetch(`${server.url}/jwks`)).json();

  for (const chain of chains.filter((c) => !c.busy)) {
    for (let i = 0; i < 3; i++) {
      const res = await refresh(chain.received.at(-1)!);
      assert.equal(res.status, 200, res.body);
      chain.received.push(res.json!.refresh_token as string);
    }
  }

  // Busy chains refresh back to back; a request that fails at the network level ends the chain.
  const unexpected: string[] = [];
  const trafficStarted = Date.now();
  const loops = chains
    .filter((c) => c.busy)
    .map(async (chain) => {
      for (let i = 0; i < 500; i++) {
        const token = chain.received.at(-1)!;
        try {
          const res = await refresh(token);
          if (res.status !== 200) return void unexpected.push(`${res.status} ${res.body}`);
          chain.received.push(res.json!.refresh_token as string);
        } catch {
          chain.inFlight = token;
          return;
        }
      }
    });
  await waitFor('every busy chain refreshed 10 times', async () => chains.every((c) => !c.busy || c.received.length > 10), 30_000, 20);
  const trafficMs = Date.now() - trafficStarted;
  server.child.kill('SIGKILL');
  const exit = await server.waitExit(5_000);
  assert.equal(exit?.signal, 'SIGKILL');
  await within(Promise.all(loops), 15_000, 'every client loop ends');
  assert.deepEqual(unexpected, [], 'only 200s before the crash');

  server = await startServerProcess(env);
  started.push(server);
  assert.deepEqual(await (await fetch(`${server.url}/jwks`)).json(), jwksBefore, 'same keys after the crash');

  // A browser session from before the crash still signs in silently (checked first:
  // the replays below revoke their grants, by design).
  const { agent } = chains.find((c) => !c.busy)!;
  const req = await authorizationRequest(config, { scope: 'openid', prompt: 'none' });
  const landed = await agent.follow(req.url, env.ISSUER!);
  assert.ok(landed.url.startsWith(REDIRECT_URI) && new URL(landed.url).searchParams.get('code'), `a code without a login page, got ${landed.url}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(tokens.claims()!.sub, user.id);


  const outcome = { refreshes_before_kill: 0, in_flight_at_kill: 0, lost_refresh_had_happened: 0, lost_refresh_had_not_happened: 0, spent_tokens_checked: 0 };
  for (const chain of chains) {
    outcome.refreshes_before_kill += chain.received.length - 1;
    // Every token whose refresh answer arrived is spent (checked without replaying: a replay revokes the grant).
    const answered = chain.received.slice(0, -1);
    for (const token of answered) assert.equal(await isActive(token), false, 'a token spent before the crash stays spent');
    outcome.spent_tokens_checked += answered.length;

    const newest = chain.received.at(-1)!;
    if (chain.inFlight) {
      // Its answer was lost: whichever way the crash fell, the token is usable at most once.
      assert.equal(chain.inFlight, newest);
      outcome.in_flight_at_kill++;
      if (await isActive(newest)) {
        outcome.lost_refresh_had_not_happened++;
        const res = await refresh(newest);
        assert.equal(res.status, 200, res.body);
        assert.equal((await refresh(newest)).json?.error, 'invalid_grant', 'and only once');
      } else {
        outcome.lost_refresh_had_happened++;
        const res = await refresh(newest);
        assert.equal(res.status, 400, res.body);
        assert.equal(res.json?.error, 'invalid_grant');
      }
    } else {
      // Idle at the crash: the newest works, and a replay of the one before is refused.
      const res = await refresh(newest);
      assert.equal(res.status, 200, res.body);
      const replay = await refresh(chain.received.at(-2)!);
      assert.equal(replay.status, 400, replay.body);
      assert.equal(replay.json?.error, 'invalid_grant');
    }
  }
  assert.ok(outcome.in_flight_at_kill >= 1, 'the kill hit at least one refresh in flight');

  console.log(`# figures ${JSON.stringify({ ...outcome, traffic_ms: trafficMs })}`);
});
