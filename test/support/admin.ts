import { before, after } from 'node:test';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './server.ts';
import { aClient, relyingParty } from './fixtures.ts';
import { loadContract } from './openapi-contract.ts';

/** An admin API caller bound to a running server, with a token from the bootstrap admin client. */
export async function adminApi(server: TestServer) {
  const admin = await relyingParty(server.issuer, 'test-admin', 'test-admin-secret-0123456789');
  const adminToken = (await oidc.clientCredentialsGrant(admin, { scope: 'admin' })).access_token;
  const contract = await loadContract(server.issuer);
  /** Operations whose answers were checked against the OpenAPI document, with how often. */
  const checked = new Map<string, number>();

  async function api(method: string, path: string, { token = adminToken, body, headers = {} }: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {}) {
    const res = await fetch(`${server.issuer}/admin/v1${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    const operation = contract.check({ method, path, body, status: res.status, contentType: res.headers.get('content-type'), json });
    if (operation) checked.set(operation, (checked.get(operation) ?? 0) + 1);
    return { status: res.status, headers: res.headers, json };
  }

  async function tokenFor(scope: string) {
    const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], scope });
    const rp = await relyingParty(server.issuer, client.client_id, client.client_secret);
    return (await oidc.clientCredentialsGrant(rp, { scope })).access_token;
  }

  /** Every item of a paged list, following `next` links from `path` to the last page. */
  async function all<T = Record<string, unknown>>(path: string): Promise<T[]> {
    const items: T[] = [];
    for (let next: string | null = path; next !== null; ) {
      const res = await api('GET', next);
      if (res.status !== 200) throw new Error(`GET ${next}: ${res.status} ${JSON.stringify(res.json)}`);
      items.push(...(res.json.items as T[]));
      next = res.json.next === null ? null : (res.json.next as string).replace(/^\/admin\/v1/, '');
    }
    return items;
  }

  return { api, all, tokenFor, checked };
}

export type AdminSuite = { server: TestServer } & Awaited<ReturnType<typeof adminApi>>;

/** A server for one test file, with an admin API caller; filled in before the first test runs. */
export function adminSuite(env: Record<string, string> = {}): AdminSuite {
  const suite = {} as AdminSuite;
  before(async () => {
    suite.server = await startTestServer(env);
    Object.assign(suite, await adminApi(suite.server));
  });
  after(async () => suite.server?.stop());
  return suite;
}

/** Every admin endpoint that writes, for the tests that throw bodies at all of them. */
export function adminWriteEndpoints(ids: { userId: string; orgAlias: string; clientId: string }) {
  return [
    ['POST', '/users'],
    ['PATCH', `/users/${ids.userId}`],
    ['PUT', `/users/${ids.userId}/privileges`],
    ['PUT', '/privileges'],
    ['POST', '/organizations'],
    ['PATCH', `/organizations/${ids.orgAlias}`],
    ['PUT', `/organizations/${ids.orgAlias}/members/${ids.userId}`],
    ['POST', '/clients'],
    ['PATCH', `/clients/${ids.clientId}`],
    ['POST', '/resource-servers'],
  ] as const;
}
