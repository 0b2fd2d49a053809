import Provider, { type Configuration } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { createAdapterClass } from '../storage/oidc-adapter.ts';
import { extraClientMetadata } from './client-metadata.ts';
import { createFindAccount } from './account.ts';
import { resourceIndicators } from './resources.ts';
import { ttl } from './ttl.ts';
import { tokenAccessPolicy, mayRevokeToken } from './token-access.ts';
import { providerPages } from './pages.ts';
import type { Brand } from '../interactions/brand.ts';
import { SUPPORTED_LOCALES } from '../interactions/locales/index.ts';
import { STANDARD_SCOPE_CLAIMS } from '../claims/standard.ts';
import { watchProviderEvents } from './events.ts';
import { answerDatabaseUnavailable } from './database-unavailable.ts';
import { interactionPolicyWithOrganizations } from './organization-policy.ts';
import { expandOrganizationScopes, requestMayNameOrganizations } from './organization-scopes.ts';
import { knownScopeCount } from './internals.ts';
import { recordGrantContext } from './grant-context-recorder.ts';
import { commitTokenRequests } from './token-unit-of-work.ts';
import { reuseClientsOfSameMetadata } from './client-reuse.ts';
import { acceptOrganizationSwitch } from './organization-switch.ts';
import { addTokenClaimsToIdTokens } from './id-token-claims.ts';
import type { TokenClaims } from './token-claims.ts';
import { ADMIN_SCOPES, SSF_SCOPE, ALL_ORGANIZATIONS_SCOPE, HASURA_SCOPE, NO_PROVIDER_SCOPE, OPENID_SCOPES, ORGANIZATION_SCOPE, PRIVILEGES_SCOPE } from '../claims/scopes.ts';
import { SIGNING_ALGS } from '../model/signing-alg.ts';
import { corsForClient } from './cors.ts';
import { loadExistingGrant } from './grant-loading.ts';
import { REQUESTED_SCOPE, recordRequestedScope } from './requested-scope.ts';
import { findJwtAccessTokens, nameGrantInJwt } from './jwt-access-tokens.ts';
import { introspectJwts } from './internals.ts';
import { listGrantedScopes } from './token-response-scope.ts';
import { cacheKeysForRefreshInterval } from './key-cache-headers.ts';
import { outboundFetch } from './outbound-fetch.ts';
import type { AddressPolicy } from '../hooks/address-policy.ts';
import { signInConfiguration, withStepUp } from '../signin/index.ts';

export type ProviderDeps = {
  issuer: string;
  db: Database;
  log: Logger;
  signingKeys: JWK[];
  cookieKeys: string[];
  trustProxy: boolean;
  tokenClaims: TokenClaims;
  /** TESSERA_KEYS_REFRESH_S: how long /jwks and discovery may be cached. */
  keysRefreshS: number;
  /** TESSERA_HOOK_ALLOWED_HOSTS: non-public hosts that back-channel logout tokens may reach. */
  outboundPolicy?: AddressPolicy;
  /** How the pages name the deployment (TESSERA_BRAND_*). */
  brand: Brand;
};

// Scope values and the claims they release in ID tokens and userinfo (SPEC 3). `organization:<alias>`
// values are registered as organizations appear (organization-scopes.ts); Hasura claims are added
// to tokens only, outside this mapping, so userinfo never shows them.
const CLAIMS = {
  ...STANDARD_SCOPE_CLAIMS,
  // How the person signed in (src/signin/): in every ID token, not only when a claims request asks.
  openid: [...STANDARD_SCOPE_CLAIMS.openid, 'acr', 'amr'],
  [ORGANIZATION_SCOPE]: ['organization'],
  [ALL_ORGANIZATIONS_SCOPE]: ['organization'],
  [PRIVILEGES_SCOPE]: ['user_profile', 'user_scope'],
};

/** Assembles the oidc-provider configuration from the small modules beside this file. */
export function createProvider({ issuer, db, log, signingKeys, cookieKeys, trustProxy, tokenClaims, keysRefreshS, brand, outboundPolicy }: ProviderDeps): Provider {
  const { renderError, logoutSource, postLogoutSuccessSource } = providerPages(brand);
  introspectJwts();
  // The adapter is made before the provider it will ask about organization scopes.
  let provider: Provider | undefined;
  const signIn = signInConfiguration();
  const configuration: Configuration = {
    adapter: createAdapterClass(db, {
      expand: (scope, everyOrganization) => (provider ? expandOrganizationScopes(provider, scope, everyOrganization) : scope),
      version: () => (provider ? knownScopeCount(provider) : 0),
      needed: requestMayNameOrganizations,
    }),
    jwks: { keys: signingKeys },
    cookies: {
      keys: cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: createFindAccount(db, tokenClaims),
    claims: structuredClone(CLAIMS) as unknown as Configuration['claims'],
    extraTokenClaims: (ctx, token) => tokenClaims.forAccessToken(ctx, token as never),
    // Scope-requested claims also go into the ID token (SPEC 3).
    conformIdTokenClaims: false,
    scopes: [...OPENID_SCOPES, HASURA_SCOPE, ...ADMIN_SCOPES, SSF_SCOPE, NO_PROVIDER_SCOPE],
    extraClientMetadata: { properties: extraClientMetadata },
    clientBasedCORS: corsForClient,
    loadExistingGrant: loadExistingGrant as Configuration['loadExistingGrant'],
    extraParams: { [REQUESTED_SCOPE]: recordRequestedScope as never },
    formats: { customizers: { jwt: nameGrantInJwt as never } },
    // What Tessera has keys for (storage/keys.ts), so discovery advertises only what it can sign.
    enabledJWA: { idTokenSigningAlgValues: SIGNING_ALGS, userinfoSigningAlgValues: SIGNING_ALGS, introspectionSigningAlgValues: SIGNING_ALGS },
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    responseTypes: ['code'],
    rotateRefreshToken: true,
    ttl,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: withStepUp(interactionPolicyWithOrganizations(db), db) },
    // How strongly the person signed in (src/signin/): advertised as acr_values_supported.
    acrValues: signIn.acrValues,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: tokenAccessPolicy(db) },
      revocation: { enabled: true, allowedPolicy: mayRevokeToken },
      userinfo: { enabled: true },
      // Only for acr, amr and auth_time in the ID token (an essential acr is a step-up).
      claimsParameter: signIn.claimsParameter,
      // Signed answers for the clients that ask for them (userinfo_/introspection_signed_response_alg).
      jwtUserinfo: { enabled: true },
      jwtIntrospection: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      // Logout tokens to clients with a backchannel_logout_uri (oidc-provider at /session/end;
      // backchannel-logout.ts for the admin API's sign-outs); `sid` in their ID tokens.
      backchannelLogout: { enabled: true },
      resourceIndicators: resourceIndicators(db),
    },
    // ES256 by default; a client may ask for RS256 (id_token_signed_response_alg) for older libraries.
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'ES256', token_endpoint_auth_method: 'client_secret_basic' },
    renderError,
    ...(outboundPolicy ? { fetch: outboundFetch(outboundPolicy) } : {}),
    // The languages of the sign-in pages (interactions/locales), chosen by ui_locales then Accept-Language.
    discovery: { ui_locales_supported: [...SUPPORTED_LOCALES] },
  };
  provider = new Provider(issuer, configuration);
  provider.proxy = trustProxy;
  reuseClientsOfSameMetadata(provider);
  watchProviderEvents(provider, log);
  answerDatabaseUnavailable(provider, log, brand);
  commitTokenRequests(provider, db, log);
  addTokenClaimsToIdTokens(provider, tokenClaims);
  acceptOrganizationSwitch(provider, tokenClaims);
  recordGrantContext(provider, db);
  findJwtAccessTokens(provider);
  listGrantedScopes(provider);
  cacheKeysForRefreshInterval(provider, keysRefreshS);
  return provider;
}
