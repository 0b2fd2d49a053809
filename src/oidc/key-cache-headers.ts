import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * `/jwks` and discovery may be cached by relying parties and proxies, but no longer than an
 * instance takes to pick up a key rotation (TESSERA_KEYS_REFRESH_S): after a `keys rotate`, a
 * relying party that honours Cache-Control sees the new key within two intervals.
 */
export function cacheKeysForRefreshInterval(provider: Provider, keysRefreshS: number): void {
  const header = `public, max-age=${Math.max(0, Math.floor(keysRefreshS))}`;
  provider.use(async (ctx, next) => {
    await next();
    const route = (ctx as KoaContextWithOIDC).oidc?.route;
    if ((route === 'jwks' || route === 'discovery') && ctx.status === 200) ctx.set('cache-control', header);
  });
}
