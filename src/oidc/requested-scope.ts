import type { KoaContextWithOIDC } from 'oidc-provider';
import { splitScope } from '../claims/scopes.ts';

/**
 * The scope of an authorization request exactly as the app sent it. oidc-provider narrows
 * `params.scope` before Tessera's rules see it: `offline_access` without `prompt=consent` is
 * dropped, and a value it does not know (an `organization:<alias>` naming no organization) is
 * removed when no resource is asked for. Consent and organization rules need the request as
 * sent, across the sign-in too (the interaction keeps the request's parameters).
 *
 * Kept as an extra authorization parameter: oidc-provider runs `extraParams` validators on every
 * authorization request (and pushed request) after its own checks, and stores the parameters with
 * the interaction. The value is always written here from the request itself; one sent by a client
 * under this name is overwritten.
 */
export const REQUESTED_SCOPE = 'x-tessera-requested-scope';

export async function recordRequestedScope(ctx: KoaContextWithOIDC): Promise<void> {
  const { oidc } = ctx;
  const params = oidc.params as Record<string, unknown>;
  // A request loaded from a pushed request keeps what was recorded when it was pushed.
  if (oidc.entities.PushedAuthorizationRequest) return;
  const sent = ctx.method === 'POST' ? (oidc.body as Record<string, unknown> | undefined)?.scope : ctx.query.scope;
  params[REQUESTED_SCOPE] = typeof sent === 'string' && !params.request ? sent : params.scope;
}

/** The request's scope values as sent (as oidc-provider kept them when that is unknown). */
export function requestedScope(ctx: KoaContextWithOIDC): string[] {
  const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
  const sent = params[REQUESTED_SCOPE];
  return splitScope(typeof sent === 'string' ? sent : (params.scope as string | undefined));
}
