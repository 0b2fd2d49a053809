import type { KoaContextWithOIDC } from 'oidc-provider';

type Source = { acr?: string; amr?: string[] };

/**
 * How the person signed in, for access tokens (ID tokens get `acr` and `amr` from oidc-provider):
 * read from the code or refresh token being used, which carry the session's at sign-in.
 */
export function authClaimsOf(ctx: KoaContextWithOIDC): { acr?: string; amr?: string[] } {
  const e = ctx.oidc.entities as Record<string, Source | undefined>;
  const source = e.AuthorizationCode ?? e.RefreshToken;
  if (!source) return {};
  return { ...(source.acr ? { acr: source.acr } : {}), ...(source.amr?.length ? { amr: source.amr } : {}) };
}
