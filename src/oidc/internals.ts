import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import introspectionStack from 'oidc-provider/lib/actions/introspection.js';
import rejectStructuredTokens from 'oidc-provider/lib/shared/reject_structured_tokens.js';
import type { JWK } from 'jose';

/**
 * The one file that reaches into oidc-provider's internal state (pinned to major 9, covered by the
 * organization tests). oidc-provider knows only static scope values; `organization:<alias>` needs
 * scopes registered as organizations appear, and the refresh_token grant needs one more parameter.
 * Its signing keys are fixed at construction; a rotation must reach running instances. Its
 * introspection refuses every JWT; Tessera answers for its own JWT access tokens.
 */
type Internals = {
  configuration: { scopes: Set<string>; claims: Record<string, Record<string, null>> };
  grantTypeHandlers: Map<string, (ctx: KoaContextWithOIDC) => Promise<void>>;
  grantTypeParams: Map<string | undefined, Set<string>>;
  jwks: { keys: Array<{ kid?: string }> };
};

const internals = (provider: Provider) => instance(provider) as Internals;

// Bumped at every change of a provider's scope set (added or removed), for caches keyed on it.
const scopeGenerations = new WeakMap<Provider, number>();
const bump = (provider: Provider) => scopeGenerations.set(provider, (scopeGenerations.get(provider) ?? 0) + 1);

/** Makes `scope` a known scope value releasing the given claims (as the static `claims` config would). */
export function registerScope(provider: Provider, scope: string, claims: string[]): void {
  const { configuration } = internals(provider);
  if (configuration.scopes.has(scope)) return;
  configuration.claims[scope] = Object.fromEntries(claims.map((c) => [c, null]));
  configuration.scopes.add(scope);
  bump(provider);
}

/** Forgets a scope value registered above (an organization deleted or renamed). */
export function unregisterScope(provider: Provider, scope: string): void {
  const { configuration } = internals(provider);
  if (!configuration.scopes.delete(scope)) return;
  delete configuration.claims[scope];
  bump(provider);
}

export function isKnownScope(provider: Provider, scope: string): boolean {
  return internals(provider).configuration.scopes.has(scope);
}

/** Changes whenever the set of known scopes does (a scope added or removed). */
export function knownScopeCount(provider: Provider): number {
  return scopeGenerations.get(provider) ?? 0;
}

export function knownScopes(provider: Provider): string[] {
  return [...internals(provider).configuration.scopes];
}

/** Wraps a grant type's handler and lets it accept extra parameters. */
export function extendGrantType(
  provider: Provider,
  grantType: string,
  params: string[],
  wrap: (original: (ctx: KoaContextWithOIDC) => Promise<void>) => (ctx: KoaContextWithOIDC) => Promise<void>,
): void {
  const { grantTypeHandlers, grantTypeParams } = internals(provider);
  const original = grantTypeHandlers.get(grantType);
  if (!original) throw new Error(`grant type ${grantType} is not enabled`);
  for (const p of params) {
    grantTypeParams.get(grantType)?.add(p);
    grantTypeParams.get(undefined)?.add(p);
  }
  grantTypeHandlers.set(grantType, wrap(original));
}

/** The kids the provider signs and verifies with now, in its order. */
export function signingKeyIds(provider: Provider): string[] {
  return internals(provider).jwks.keys.map((k) => String(k.kid));
}

/**
 * Replaces the provider's signing keys with `keys` (private JWKs), validated the same way as the
 * `jwks` configuration. The swap is one assignment: a request signs with the old or the new set.
 */
export function replaceSigningKeys(provider: Provider, keys: JWK[]): void {
  initializeKeystore.call(provider, { keys: structuredClone(keys) });
}

/** The public halves of the keys the provider signs with now (its /jwks). */
export function publicSigningKeys(provider: Provider): JWK[] {
  return internals(provider).jwks.keys.map((k) => {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = k as JWK;
    return pub;
  });
}

/**
 * Lets the introspection endpoint look a JWT up like any other token (AccessToken.find, which
 * Tessera teaches its own JWT access tokens: jwt-access-tokens.ts) instead of answering
 * `unsupported_token_type`. Must run before a provider is made: its routes copy the middleware list.
 */
export function introspectJwts(): void {
  const at = introspectionStack.indexOf(rejectStructuredTokens);
  if (at !== -1) introspectionStack.splice(at, 1);
}
