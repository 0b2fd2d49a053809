import type { Client, KoaContextWithOIDC } from 'oidc-provider';

/**
 * `clientBasedCORS`: a browser at `origin` may call the token, userinfo, introspection and
 * revocation endpoints for this client when the origin is one of its redirect URIs' or is listed
 * in its `allowed_origins` (an SPA whose token calls come from another origin than its callback).
 */
export function corsForClient(_ctx: KoaContextWithOIDC, origin: string, client: Client): boolean {
  const allowed = (client['allowed_origins'] as string[] | undefined) ?? [];
  return allowed.includes(origin) || (client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false);
}
