/** What a payload hook receives (SPEC 5): the module's argument, the webhook's JSON body. */
import { z } from 'zod';

export const HookOrganization = z.strictObject({
  id: z.string(),
  alias: z.string(),
  roles: z.array(z.string()),
});

export const HookInput = z.strictObject({
  client_id: z.string(),
  /** The user; absent for client_credentials. */
  sub: z.string().optional(),
  /** The granted scope, space-separated. */
  scope: z.string(),
  /** The scope exactly as the client asked for it. */
  requested_scope: z.string(),
  grant_type: z.string(),
  /** The active organization, or null. */
  organization: HookOrganization.nullable(),
  /** The audience (resource server identifier), or null. */
  resource: z.string().nullable(),
  /** How the user signed in (RFC 8176 values: `pwd`, `otp`, `mfa`…); absent for client_credentials. */
  amr: z.array(z.string()).optional(),
  /** The authentication context class: `urn:tessera:acr:pwd` or `urn:tessera:acr:mfa`; absent for client_credentials. */
  acr: z.string().optional(),
  /** Tessera's id of the token request; not part of the cache key. */
  request_id: z.string(),
});

export type HookOrganization = z.infer<typeof HookOrganization>;
export type HookInput = z.infer<typeof HookInput>;

/** Claims a hook answered: the members of a JSON object. */
export type HookClaims = Record<string, unknown>;
