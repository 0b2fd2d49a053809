/** The fixed names the harness, the baseline and Tessera share: the same client, resources and secrets. */
export const BENCH = {
  client: { id: 'bench-app', secret: 'bench-app-secret-0123456789abcdef' },
  moduleClient: { id: 'bench-app-module', secret: 'bench-app-module-secret-0123456789' },
  webhookClient: { id: 'bench-app-webhook', secret: 'bench-app-webhook-secret-0123456789' },
  admin: { id: 'bench-admin', secret: 'bench-admin-secret-0123456789abcdef' },
  webhookSecret: 'bench-webhook-secret-0123456789',
  jwtResource: 'https://api.bench.test',
  opaqueResource: 'https://opaque.bench.test',
  redirectUri: 'https://app.bench.test/cb',
  clientScope: 'openid offline_access organization organization:* privileges',
  password: 'correct horse battery',
  /** The refresh scenario's scope on Tessera; the baseline gets `openid offline_access` (no claims work). */
  refreshScope: 'openid organization privileges offline_access',
  allOrganizationsScope: 'openid organization:* privileges offline_access',
  baselineRefreshScope: 'openid offline_access',
} as const;
