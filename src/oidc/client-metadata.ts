import type { AdapterPayload, ClientMetadata } from 'oidc-provider';
import { PAGE_METADATA, type Client } from '../model/client.ts';
import { NO_PROVIDER_SCOPE, isProviderScope, splitScope } from '../claims/scopes.ts';

/**
 * A `clients` row as oidc-provider client metadata; Tessera's own settings ride along as extra metadata.
 * `expandScope` adds what a scope implies: a client allowed `organization` may ask for any
 * `organization:<alias>` value, which oidc-provider only accepts when the client lists it.
 */
export function toClientMetadata(c: Client, expandScope: (scope: string) => string = (s) => s): ClientMetadata {
  return {
    client_id: c.client_id,
    ...(c.client_secret ? { client_secret: c.client_secret } : {}),
    client_name: c.client_name,
    application_type: c.application_type,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    grant_types: c.grant_types,
    response_types: c.grant_types.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    // oidc-provider knows only its own scope values; resource servers' ones limit getResourceServerInfo.
    scope: expandScope(splitScope(c.scope).filter(isProviderScope).join(' ')) || NO_PROVIDER_SCOPE,
    resource_scopes: splitScope(c.scope).filter((s) => !isProviderScope(s)),
    id_token_signed_response_alg: c.id_token_signed_response_alg,
    ...(c.userinfo_signed_response_alg ? { userinfo_signed_response_alg: c.userinfo_signed_response_alg } : {}),
    ...(c.introspection_signed_response_alg ? { introspection_signed_response_alg: c.introspection_signed_response_alg } : {}),
    ...(c.default_resource ? { default_resource: c.default_resource } : {}),
    allowed_resources: c.allowed_resources,
    allowed_origins: c.allowed_origins,
    first_party: c.first_party,
    mfa: c.mfa,
    ...(c.payload_hook ? { payload_hook: c.payload_hook } : {}),
    ...(c.backchannel_logout_uri ? { backchannel_logout_uri: c.backchannel_logout_uri, backchannel_logout_session_required: c.backchannel_logout_session_required } : {}),
    // Standard metadata oidc-provider keeps (client.logoUri...); the pages show them.
    ...Object.fromEntries(PAGE_METADATA.flatMap((k) => (c[k] ? [[k, c[k]]] : []))),
  };
}

/** Metadata names oidc-provider must keep on the client object for Tessera to read. */
export const extraClientMetadata = ['default_resource', 'allowed_resources', 'resource_scopes', 'allowed_origins', 'first_party', 'mfa', 'payload_hook'];

/**
 * What a client's scope implies (organization scopes, see organization-scopes.ts); `version` changes
 * whenever `expand` would give another answer for the same scope; `needed` tells whether the
 * request in progress needs it at all.
 */
export type ClientScopeExpansion = { expand(scope: string, everyOrganization: boolean): string; version(): number; needed(): boolean };

/**
 * A client's metadata as handed to oidc-provider, built once per kept (frozen) client row, scope
 * version and kind (with every organization scope, or only for requests that name one): building
 * it, and oidc-provider hashing and splitting the long scope list, was a tenth of a
 * client_credentials request's CPU. It is handed out frozen and shared: oidc-provider only hashes
 * it, or copies what it needs into a new `Client` when the hash is new.
 */
type Built = { version: number; metadata: AdapterPayload };
const built = new WeakMap<Client, { narrow?: Built; every?: Built }>();
export function clientMetadataFor(client: Client, scope?: ClientScopeExpansion): AdapterPayload {
  let b = built.get(client);
  if (!b) built.set(client, (b = {}));
  const every = scope?.needed() ?? false;
  const version = scope?.version() ?? 0;
  const slot = every ? 'every' : 'narrow';
  if (b[slot]?.version !== version) {
    const metadata = toClientMetadata(client, scope && ((s) => scope.expand(s, every)));
    b[slot] = { version, metadata: Object.freeze(metadata) as AdapterPayload };
  }
  return b[slot]!.metadata;
}
