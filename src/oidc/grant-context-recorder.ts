import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { saveCodeGrantContext } from '../storage/grant-context.ts';
import { authorizationSelection } from './organization-policy.ts';

/**
 * When an authorization request ends with a code, records on the code the scope exactly as the
 * app asked for it and the organization it selected. The write completes before the redirect
 * leaves, so the code exchange always finds it. Only redeeming the code makes them the grant's:
 * a request with `organization:<alias>` (with prompt=none or not) switches the grant's active
 * organization only for the app that redeems its code, never for a page that merely sends it.
 */
export function recordGrantContext(provider: Provider, db: Database): void {
  provider.use(async (ctx, next) => {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc;
    if (!oidc || (oidc.route !== 'authorization' && oidc.route !== 'resume')) return;
    const code = oidc.entities.AuthorizationCode as { jti?: string } | undefined;
    if (!code?.jti) return;
    const selection = await authorizationSelection(ctx as KoaContextWithOIDC, db);
    await saveCodeGrantContext(db, code.jti, {
      requested_scope: (oidc.params?.scope as string | undefined) ?? '',
      organization_id: selection?.ok && selection.active ? selection.active.id : undefined,
    });
  });
}
