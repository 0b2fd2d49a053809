/**
 * Stronger sign-in (issue 18): second factors, how strongly a person signed in (amr/acr), and the
 * policy that asks for more. The one place the capability is registered: the provider's
 * configuration and login checks, the interaction pages, and the tokens' claims.
 */
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { ACR_VALUES_SUPPORTED } from './acr.ts';
import { stepUpCheck } from './policy.ts';

export { signInSteps, type SignInSteps } from './routes.ts';
export { authClaimsOf } from './token-claims.ts';

/** The ID token claims a `claims` request may ask for: how and when the person signed in. Everything else is asked for with scopes, so consent shows it. */
const REQUESTABLE_CLAIMS = new Set(['acr', 'amr', 'auth_time']);

async function assertClaimsParameter(_ctx: KoaContextWithOIDC, claims: Record<string, unknown>): Promise<void> {
  for (const container of ['userinfo', 'id_token'] as const) {
    const members = claims[container];
    if (members === undefined) continue;
    for (const [name, value] of Object.entries(members as Record<string, unknown>)) {
      if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
      if (container === 'userinfo' || !REQUESTABLE_CLAIMS.has(name)) {
        throw new errors.InvalidRequest(`the claims parameter may ask only for id_token ${[...REQUESTABLE_CLAIMS].join(', ')}; ask for other claims with scopes`);
      }
    }
  }
}

/** What the sign-in capability sets in oidc-provider's configuration. */
export function signInConfiguration(): Pick<Configuration, 'acrValues'> & { claimsParameter: NonNullable<Configuration['features']>['claimsParameter'] } {
  return {
    acrValues: ACR_VALUES_SUPPORTED,
    claimsParameter: { enabled: true, assertClaimsParameter: assertClaimsParameter as never },
  };
}

/** Adds the step-up check to the login prompt of an interaction policy. */
export function withStepUp<P extends { get(name: string): { checks: unknown[] } | undefined }>(policy: P, db: Database): P {
  policy.get('login')!.checks.push(stepUpCheck(db));
  return policy;
}
