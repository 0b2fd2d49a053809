import { z } from 'zod';
import { PayloadHookConfig } from '../hooks/config.ts';
import { SigningAlg } from './signing-alg.ts';
import { inferApplicationType, originProblem, redirectUriProblem } from './redirect-uri.ts';
import { webPageUriProblem } from './web-uri.ts';

export const GrantType = z.enum(['authorization_code', 'refresh_token', 'client_credentials']);
export const AuthMethod = z.enum(['client_secret_basic', 'client_secret_post', 'none']);
export const ApplicationType = z.enum(['web', 'native']);
/** Whether the client's users must sign in with a second factor (src/signin/). */
export const MfaPolicy = z.enum(['optional', 'required']);

const Uri = z.url();
// Checked against the application type with the whole client (NewClient below).
const RedirectUri = z.string().min(1).max(2000);
// An absolute http(s) URL without a fragment (Back-Channel Logout 1.0, section 2.2).
const BackchannelUri = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .refine((u) => !u.includes('#'), 'must not have a fragment');
const Origin = z.string().superRefine((o, ctx) => {
  const problem = originProblem(o);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

// Shown to people on the sign-in and consent pages: https (http on this machine only), as redirect URIs.
const WebPageUri = z
  .string()
  .max(2000)
  .superRefine((u, ctx) => {
    const problem = webPageUriProblem(u);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The client metadata the pages show besides client_name (OpenID Connect Dynamic Client Registration §2). */
export const PAGE_METADATA = ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const;

const ClientFields = z.strictObject({
    client_id: z.string().regex(/^[A-Za-z0-9._~-]{3,128}$/, 'letters, digits and . _ ~ -, 3 to 128 of them').optional(),
    client_name: z.string().min(1).max(200),
    /** `native` (RFC 8252): private-use schemes and loopback redirects on any port. Inferred when left out. */
    application_type: ApplicationType.optional(),
    redirect_uris: z.array(RedirectUri).default([]),
    post_logout_redirect_uris: z.array(RedirectUri).default([]),
    grant_types: z.array(GrantType).min(1).default(['authorization_code', 'refresh_token']),
    token_endpoint_auth_method: AuthMethod.default('client_secret_basic'),
    scope: z.string().trim().min(1).default('openid profile email offline_access'),
    default_resource: Uri.optional(),
    allowed_resources: z.array(Uri).default([]),
    /** Origins allowed to call the token, userinfo and revocation endpoints from a browser, beyond the redirect URIs' own. */
    allowed_origins: z.array(Origin).default([]),
    /** The operator's own app: no consent page, `offline_access` granted when asked for. */
    first_party: z.boolean().default(false),
    /** `required`: every sign-in for this client gives a second factor (a user without one sets it up then). */
    mfa: MfaPolicy.default('optional'),
    id_token_signed_response_alg: SigningAlg.default('ES256'),
    /** When set, userinfo answers a JWT signed with it (application/jwt) instead of JSON. */
    userinfo_signed_response_alg: SigningAlg.optional(),
    /** When set, introspection answers a JWT signed with it (RFC 9701) instead of JSON. */
    introspection_signed_response_alg: SigningAlg.optional(),
    /** This client's own payload hook; it wins over the global one (SPEC 5). */
    payload_hook: PayloadHookConfig.optional(),
    /** OpenID Connect Back-Channel Logout 1.0: where logout tokens are POSTed when a session of this client ends. */
    backchannel_logout_uri: BackchannelUri.optional(),
    /** Logout tokens and ID tokens carry `sid` (the session's id for this client). */
    backchannel_logout_session_required: z.boolean().default(true),
    /** An image shown beside the application's name on the sign-in and consent pages. */
    logo_uri: WebPageUri.optional(),
    /** The application's home page, linked from its name on the pages. */
    client_uri: WebPageUri.optional(),
    /** The application's privacy policy, linked from the pages. */
    policy_uri: WebPageUri.optional(),
    /** The application's terms of service, linked from the pages. */
    tos_uri: WebPageUri.optional(),
  });

/** The application type a client has: as given, else inferred from its redirect URIs. */
export const applicationTypeOf = (c: { application_type?: 'web' | 'native' | null; token_endpoint_auth_method?: string; redirect_uris?: string[] }) =>
  c.application_type ?? inferApplicationType(c);

/** A client as created; the rules that tie fields together hold for every write, PATCH included. */
export const NewClient = ClientFields
  .superRefine((c, ctx) => {
    const type = applicationTypeOf(c);
    for (const field of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
      c[field].forEach((uri, i) => {
        const problem = redirectUriProblem(uri, type);
        if (problem) ctx.addIssue({ code: 'custom', path: [field, i], message: problem });
      });
    }
  })
  .refine((c) => !c.grant_types.includes('authorization_code') || c.redirect_uris.length > 0, {
    message: 'authorization_code needs at least one redirect_uri',
    path: ['redirect_uris'],
  })
  .refine((c) => !c.grant_types.includes('client_credentials') || c.token_endpoint_auth_method !== 'none', {
    message: 'client_credentials needs a confidential client',
    path: ['token_endpoint_auth_method'],
  })
  .refine((c) => !c.default_resource || c.allowed_resources.includes(c.default_resource), {
    message: 'default_resource must be one of allowed_resources',
    path: ['default_resource'],
  });
export type NewClient = z.input<typeof NewClient>;

/** PATCH /clients/{id}: any field but the id; null removes default_resource, payload_hook, a signed-response algorithm or a page link (logo_uri...). */
// Built without the creation defaults: a field left out of a PATCH stays as it is.
export const ClientPatch = z
  .strictObject(
    Object.fromEntries(
      Object.entries(ClientFields.omit({ client_id: true }).shape).map(([k, v]) => [k, (v instanceof z.ZodDefault ? v.unwrap() : v).optional()]),
    ) as unknown as { [K in Exclude<keyof typeof ClientFields.shape, 'client_id'>]: z.ZodOptional<z.ZodType<z.infer<typeof ClientFields>[K]>> },
  )
  .extend({
    default_resource: Uri.nullable().optional(),
    payload_hook: PayloadHookConfig.nullable().optional(),
    userinfo_signed_response_alg: SigningAlg.nullable().optional(),
    introspection_signed_response_alg: SigningAlg.nullable().optional(),
    backchannel_logout_uri: BackchannelUri.nullable().optional(),
    logo_uri: WebPageUri.nullable().optional(),
    client_uri: WebPageUri.nullable().optional(),
    policy_uri: WebPageUri.nullable().optional(),
    tos_uri: WebPageUri.nullable().optional(),
  });
export type ClientPatch = z.infer<typeof ClientPatch>;

type Fields = z.infer<typeof ClientFields>;
export type Client = {
  client_id: string;
  client_secret: string | null;
  client_name: string;
  application_type: z.infer<typeof ApplicationType>;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: z.infer<typeof GrantType>[];
  token_endpoint_auth_method: z.infer<typeof AuthMethod>;
  scope: string;
  default_resource: string | null;
  allowed_resources: string[];
  allowed_origins: string[];
  first_party: boolean;
  mfa: z.infer<typeof MfaPolicy>;
  id_token_signed_response_alg: Fields['id_token_signed_response_alg'];
  userinfo_signed_response_alg: SigningAlg | null;
  introspection_signed_response_alg: SigningAlg | null;
  payload_hook: z.infer<typeof PayloadHookConfig> | null;
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  logo_uri: string | null;
  client_uri: string | null;
  policy_uri: string | null;
  tos_uri: string | null;
};
