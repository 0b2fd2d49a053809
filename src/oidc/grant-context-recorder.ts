import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { saveGrantContext } from '../storage/grant-context.ts';
import { authorizationSelection } from './organization-policy.ts';

/**
 * When an authorization request ends with a code, records on its grant the scope exactly as the
 * app asked for it and the organization it selected. The write completes before the redirect
 * leaves, so the code exchange always finds it. A request with `organization:<alias>` (with
 * prompt=none or not) thereby switches the grant's active organization.
 */
export function recordGrantContext(provider: Provider, db: Database): void {
  provider.use(async (ctx, next) => {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc;
    if (!oidc || (oidc.route !== 'authorization' && oidc.route !== 'resume')) return;
    const code = oidc.entities.AuthorizationCode as { grantId?: string } | undefined;
    if (!code?.grantId) return;
    const selection = await authorizationSelection(ctx as KoaContextWithOIDC, db);
    await saveGrantContext(db, code.grantId, {
      requested_scope: (oidc.params?.scope as string | undefined) ?? '',
      organization_id: selection?.ok && selection.active ? selection.active.id : undefined,
    });
  });
}
