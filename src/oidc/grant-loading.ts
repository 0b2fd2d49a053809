import type { KoaContextWithOIDC } from 'oidc-provider';
import { splitScope } from '../claims/scopes.ts';
import { organizationScopesCoveredByGrant } from './organization-policy.ts';
import { requestedScope } from './requested-scope.ts';

type Grant = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;
const OFFLINE = 'offline_access';

/**
 * `loadExistingGrant`: the grant an authorization request is checked against, where Tessera's
 * consent rules meet oidc-provider's (SPEC 10):
 * - `offline_access` asked for without `prompt=consent` is kept (keepOfflineAccess below).
 * - a `first_party` client's grant receives what the request asks for: its users see no consent
 *   page, and `offline_access` is granted when asked for.
 * - consent to `organization` covers choosing any organization the user belongs to
 *   (organization-policy.ts); membership is still checked by the organization prompt.
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const client = oidc.client!;
  const grantId = (oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? oidc.session!.grantIdFor(client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  keepOfflineAccess(ctx, grant);

  const firstParty = client['first_party'] === true;
  const covered = grant ? organizationScopesCoveredByGrant(grant.getOIDCScope(), [...oidc.requestParamOIDCScopes]) : [];
  if (!firstParty && !covered.length) return grant;

  grant ??= new oidc.provider.Grant({ accountId: oidc.session!.accountId, clientId: client.clientId });
  if (firstParty) {
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    const claims = [...oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
      const asked = [...oidc.requestParamScopes].filter((s) => server.scopes.has(s));
      if (asked.length) grant.addResourceScope(indicator, asked.join(' '));
    }
  } else {
    grant.addOIDCScope(covered.join(' '));
  }
  await grant.save();
  return grant;
}

/**
 * `offline_access` stays in an authorization request when the app asked for it, may use refresh
 * tokens and gets a code, even without `prompt=consent` (oidc-provider drops it then, after OpenID
 * Connect Core §11). Consent still decides: the consent page asks for it, a grant that already
 * holds it (consented earlier) covers it, a first-party client is granted it. With `prompt=none`
 * it stays only when the grant already holds it, so a silent request never turns into
 * `consent_required` because of it.
 */
function keepOfflineAccess(ctx: KoaContextWithOIDC, grant: Grant | undefined): void {
  const { oidc } = ctx;
  if (oidc.requestParamScopes.has(OFFLINE) || !requestedScope(ctx).includes(OFFLINE)) return;
  const client = oidc.client!;
  if (!client.grantTypeAllowed('refresh_token') || !splitScope(client.scope).includes(OFFLINE)) return;
  if (!String(oidc.params!.response_type ?? '').split(' ').includes('code')) return;
  if (oidc.prompts.has('none') && !grant?.getOIDCScope().split(' ').includes(OFFLINE)) return;
  oidc.params!.scope = [...oidc.requestParamScopes, OFFLINE].join(' ');
}
