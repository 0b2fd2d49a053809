/**
 * The baseline: the fastest Tessera could be. A bare oidc-provider with its default in-memory
 * adapter, the same signing keys, the same client and the same resource servers, and no claims
 * work at all. Run by bench/run.ts in a child process of its own:
 *
 *   BENCH_PORT=… BENCH_SETUP='{"keys":[…],"client":{…},"jwtResource":"…","opaqueResource":"…"}' node --import tsx bench/baseline-server.ts
 *
 * `POST /bench/refresh-tokens?n=N` creates N grants with a refresh token each, inside this
 * process (the memory adapter cannot be reached from outside), for the refresh scenario.
 */
import http from 'node:http';
import Provider, { type Configuration } from 'oidc-provider';
import type { JWK } from 'jose';

export type BaselineSetup = {
  keys: JWK[];
  client: { client_id: string; client_secret: string; redirect_uri: string };
  jwtResource: string;
  opaqueResource: string;
  /** The refresh scenario's scope on this side: no organization, no privileges. */
  refreshScope: string;
  accountId: string;
};

const setup = JSON.parse(process.env.BENCH_SETUP ?? '{}') as BaselineSetup;
const port = Number(process.env.BENCH_PORT ?? 0);
const issuer = `http://localhost:${port}`;

const configuration: Configuration = {
  clients: [
    {
      client_id: setup.client.client_id,
      client_secret: setup.client.client_secret,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: [setup.client.redirect_uri],
      scope: 'openid offline_access read write',
    },
  ],
  jwks: { keys: setup.keys as NonNullable<Configuration['jwks']>['keys'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  scopes: ['openid', 'offline_access', 'read', 'write'],
  rotateRefreshToken: true,
  clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'ES256', token_endpoint_auth_method: 'client_secret_basic' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => setup.jwtResource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => ({
        audience: resource,
        scope: 'read write',
        accessTokenTTL: 3600,
        ...(resource === setup.opaqueResource ? { accessTokenFormat: 'opaque' } : { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
      }),
    },
  },
};

const provider = new Provider(issuer, configuration);

/** Grants and refresh tokens made here, as a finished code flow would have left them. */
async function refreshTokens(n: number): Promise<string[]> {
  const client = await provider.Client.find(setup.client.client_id);
  if (!client) throw new Error('the baseline client is missing');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const grant = new provider.Grant({ accountId: setup.accountId, clientId: client.clientId });
    grant.addOIDCScope(setup.refreshScope);
    grant.addResourceScope(setup.jwtResource, 'read');
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      client,
      accountId: setup.accountId,
      grantId,
      scope: setup.refreshScope,
      resource: setup.jwtResource,
      gty: 'authorization_code',
      authTime: Math.floor(Date.now() / 1000),
    } as never);
    out.push(await token.save());
  }
  return out;
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url?.startsWith('/bench/refresh-tokens')) {
    const n = Number(new URL(req.url, issuer).searchParams.get('n') ?? '1');
    refreshTokens(Math.min(Math.max(n, 1), 10_000)).then(
      (tokens) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(tokens));
      },
      (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err.message);
      },
    );
    return;
  }
  if (req.url === '/readyz') {
    res.writeHead(200);
    res.end('ok');
    return;
  }
  callback(req, res);
});
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
