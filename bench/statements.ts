/**
 * `npm run bench:statements`: how many SQL statements (round trips) a code exchange and a refresh
 * cost, counted with knex's `query` event on a server in this process (PGlite, or PostgreSQL with
 * TEST_DATABASE_URL). A count, not a timing; kept here rather than in the tests, which check
 * behaviour. Exits 1 when a request costs more than its budget.
 */
import * as oidc from 'openid-client';
import { startTestServer } from '../test/support/server.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty, unique } from '../test/support/fixtures.ts';
import { signIn } from '../test/support/browserless.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';
import { putPrivileges } from '../src/storage/privileges.ts';

// One read (the token with its claim sources) and one commit (spend, new tokens, grant context).
const BUDGET = { code_exchange: 2, refresh: 2 };

const server = await startTestServer();
const rows: Array<{ request: string; statements: number; budget: number; sql: string[] }> = [];
try {
  const org = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme' });
  for (const accessToken of ['jwt', 'opaque'] as const) {
    const rs = accessToken === 'jwt' ? await aResourceServer(server.db, 'jwt') : undefined;
    const client = await aClient(server.db, { scope: 'openid offline_access organization privileges', ...(rs ? { allowed_resources: [rs.identifier], default_resource: rs.identifier } : {}) });
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const user = await aUser(server.db);
    await putMembership(server.db, org.id, user.id, { roles: ['editor'] });
    await putPrivileges(server.db, user.id, { profile: { plan: 'silver' }, scope: 'reports:write' });
    const req = await authorizationRequest(config, { scope: `openid offline_access organization privileges${rs ? ' read' : ''}`, prompt: 'consent' });
    const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
    const counted = async <T>(request: keyof typeof BUDGET, fn: () => Promise<T>): Promise<T> => {
      const sql: string[] = [];
      const count = (q: { sql: string }) => sql.push(q.sql.replace(/\s+/g, ' ').slice(0, 60));
      server.db.on('query', count);
      try {
        return await fn();
      } finally {
        server.db.off('query', count);
        rows.push({ request: `${request} (${accessToken} access token)`, statements: sql.length, budget: BUDGET[request], sql });
      }
    };
    const tokens = await counted('code_exchange', () => oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state }));
    await counted('refresh', () => oidc.refreshTokenGrant(config, tokens.refresh_token!));
  }
} finally {
  await server.stop();
}
console.log(`database: ${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`);
console.log('| request | statements | budget |\n|---|--:|--:|');
for (const r of rows) console.log(`| ${r.request} | ${r.statements} | ${r.budget} |`);
const over = rows.filter((r) => r.statements > r.budget);
for (const r of over) console.error(`over budget: ${r.request}\n  ${r.sql.join('\n  ')}`);
process.exitCode = over.length ? 1 : 0;
