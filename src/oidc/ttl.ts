import type { Configuration } from 'oidc-provider';

// Lifetimes in seconds. Refresh tokens rotate at every use, so a long lifetime does not mean a long-lived secret.
export const ttl: Configuration['ttl'] = {
  AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
  AuthorizationCode: 60,
  ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
  IdToken: 3600,
  Interaction: 3600,
  Session: 14 * 24 * 3600,
  Grant: 14 * 24 * 3600,
  RefreshToken: 14 * 24 * 3600,
};
