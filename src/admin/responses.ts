/**
 * What the admin API answers, as zod schemas of the JSON it sends. They are the response schemas of
 * the OpenAPI document, and the tests check every answer of the admin tests against that document
 * (test/support/admin.ts); strict objects, so an answer carrying a field the document does not name
 * (a password hash, a hook secret) fails the suite.
 */
import { z } from 'zod';
import { Alias } from '../model/organization.ts';
import { ApplicationType, AuthMethod, GrantType, MfaPolicy } from '../model/client.ts';
import { SigningAlg } from '../model/signing-alg.ts';
import { JsonValue } from '../model/json.ts';
import { ModuleHookConfig, WebhookHookConfig } from '../hooks/config.ts';

const Timestamp = z.iso.datetime({ offset: true });
const JsonObject = z.record(z.string(), JsonValue);
const items = <T extends z.ZodType>(item: T) => z.strictObject({ items: z.array(item) });
/** A page of a list (admin/paging.ts): `next` is the path of the following page, null on the last. */
const page = <T extends z.ZodType>(item: T) => z.strictObject({ items: z.array(item), next: z.string().nullable() });

export const UserAnswer = z.strictObject({
  id: z.uuid(),
  username: z.string(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  name: z.string().nullable(),
  given_name: z.string().nullable(),
  family_name: z.string().nullable(),
  external_id: z.string().nullable(),
  enabled: z.boolean(),
  claims: JsonObject,
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const OrganizationAnswer = z.strictObject({ id: z.uuid(), alias: Alias, name: z.string(), attributes: JsonObject, mfa: MfaPolicy });

/** A user's organization, with their roles in it. */
export const UserOrganizationAnswer = OrganizationAnswer.omit({ attributes: true, mfa: true }).extend({ roles: z.array(z.string()), attributes: JsonObject });

export const MemberAnswer = z.strictObject({ user_id: z.uuid(), username: z.string(), roles: z.array(z.string()), attributes: JsonObject });

export const MembershipAnswer = z.strictObject({ organization_id: z.uuid(), user_id: z.uuid(), roles: z.array(z.string()), attributes: JsonObject });

/** A second factor as the admin API shows it (src/signin/): never its secret. */
export const FactorAnswer = z.strictObject({ id: z.uuid(), kind: z.enum(['totp', 'passkey']), label: z.string(), confirmed: z.boolean(), created_at: Timestamp, last_used_at: Timestamp.nullable() });
export const FactorListAnswer = z.strictObject({ items: z.array(FactorAnswer), recovery_codes_left: z.number().int().min(0) });
export const FactorResetAnswer = z.strictObject({ removed: z.number().int().min(0) });
export const PasswordResetLinkAnswer = z.strictObject({ url: z.url(), expires_at: Timestamp });
export const VerificationSentAnswer = z.strictObject({ sent: z.literal(true) });
export const LogoutAnswer = z.strictObject({ revoked: z.number().int().min(0) });

export const PrivilegesAnswer = z.strictObject({ profile: JsonValue, scope: z.string(), version: z.number().int().min(0), updated_at: Timestamp.nullable() });

export const BulkPrivilegesAnswer = items(z.strictObject({ user_id: z.uuid(), version: z.number().int().min(1) }));

/** A hook setting as shown: a webhook's secret is never shown, only that one is set. */
const ShownHook = z.union([WebhookHookConfig.omit({ secret: true }).extend({ secret_set: z.literal(true) }), ModuleHookConfig]);

export const ClientAnswer = z.strictObject({
  client_id: z.string(),
  client_name: z.string(),
  application_type: ApplicationType,
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  grant_types: z.array(GrantType),
  token_endpoint_auth_method: AuthMethod,
  scope: z.string(),
  default_resource: z.string().nullable(),
  allowed_resources: z.array(z.string()),
  allowed_origins: z.array(z.string()),
  first_party: z.boolean(),
  mfa: MfaPolicy,
  id_token_signed_response_alg: SigningAlg,
  userinfo_signed_response_alg: SigningAlg.nullable(),
  introspection_signed_response_alg: SigningAlg.nullable(),
  payload_hook: ShownHook.nullable(),
  backchannel_logout_uri: z.string().nullable(),
  backchannel_logout_session_required: z.boolean(),
  logo_uri: z.string().nullable(),
  client_uri: z.string().nullable(),
  policy_uri: z.string().nullable(),
  tos_uri: z.string().nullable(),
});

/** A client as registered or after its secret is rotated: the only answers that carry the secret. */
export const ClientWithSecretAnswer = ClientAnswer.extend({ client_secret: z.string().nullable() });

export const ResourceServerAnswer = z.strictObject({
  identifier: z.string(),
  audience: z.string(),
  name: z.string().nullable(),
  description: z.string().nullable(),
  scopes: z.array(z.string()),
  access_token_format: z.enum(['jwt', 'opaque']),
  signing_alg: SigningAlg,
  access_token_ttl: z.number().int(),
});

export const TokenPreviewAnswer = z.strictObject({
  id_token: JsonObject.nullable(),
  access_token: JsonObject,
  userinfo: JsonObject.nullable(),
  renamed: z.array(z.strictObject({ from: z.string(), to: z.string() })),
  dropped: z.array(z.string()),
  hook: z
    .union([
      z.strictObject({ status: z.literal('ok'), source: z.string(), cached: z.boolean(), claims: JsonObject.nullable() }),
      z.strictObject({ status: z.literal('failed'), source: z.string(), cause: z.string(), policy: z.string() }),
    ])
    .nullable(),
});

/** Each answer by the name the OpenAPI document gives it. */
export const answers = {
  User: UserAnswer,
  UserList: page(UserAnswer),
  UserOrganizationList: page(UserOrganizationAnswer),
  Logout: LogoutAnswer,
  FactorList: FactorListAnswer,
  FactorReset: FactorResetAnswer,
  PasswordResetLink: PasswordResetLinkAnswer,
  VerificationSent: VerificationSentAnswer,
  Privileges: PrivilegesAnswer,
  BulkPrivileges: BulkPrivilegesAnswer,
  Organization: OrganizationAnswer,
  OrganizationList: page(OrganizationAnswer),
  MemberList: page(MemberAnswer),
  StoredMembership: MembershipAnswer,
  Client: ClientAnswer,
  ClientWithSecret: ClientWithSecretAnswer,
  ResourceServer: ResourceServerAnswer,
  ResourceServerList: page(ResourceServerAnswer),
  TokenPreview: TokenPreviewAnswer,
};
export type AnswerName = keyof typeof answers;
