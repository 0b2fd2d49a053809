import { z } from 'zod';
import { PayloadHookConfig } from '../hooks/config.ts';

export const GrantType = z.enum(['authorization_code', 'refresh_token', 'client_credentials']);
export const AuthMethod = z.enum(['client_secret_basic', 'client_secret_post', 'none']);

const Uri = z.url();

const ClientFields = z.strictObject({
    client_id: z.string().regex(/^[A-Za-z0-9._~-]{3,128}$/, 'letters, digits and . _ ~ -, 3 to 128 of them').optional(),
    client_name: z.string().min(1).max(200),
    redirect_uris: z.array(Uri).default([]),
    post_logout_redirect_uris: z.array(Uri).default([]),
    grant_types: z.array(GrantType).min(1).default(['authorization_code', 'refresh_token']),
    token_endpoint_auth_method: AuthMethod.default('client_secret_basic'),
    scope: z.string().trim().min(1).default('openid profile email offline_access'),
    default_resource: Uri.optional(),
    allowed_resources: z.array(Uri).default([]),
    /** This client's own payload hook; it wins over the global one (SPEC 5). */
    payload_hook: PayloadHookConfig.optional(),
  });

/** A client as created; the rules that tie fields together hold for every write, PATCH included. */
export const NewClient = ClientFields
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

/** PATCH /clients/{id}: any field but the id; null removes default_resource or payload_hook. */
// Built without the creation defaults: a field left out of a PATCH stays as it is.
export const ClientPatch = z
  .strictObject(
    Object.fromEntries(
      Object.entries(ClientFields.omit({ client_id: true }).shape).map(([k, v]) => [k, (v instanceof z.ZodDefault ? v.unwrap() : v).optional()]),
    ) as unknown as { [K in Exclude<keyof typeof ClientFields.shape, 'client_id'>]: z.ZodOptional<z.ZodType<z.infer<typeof ClientFields>[K]>> },
  )
  .extend({ default_resource: Uri.nullable().optional(), payload_hook: PayloadHookConfig.nullable().optional() });
export type ClientPatch = z.infer<typeof ClientPatch>;

export type Client = {
  client_id: string;
  client_secret: string | null;
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: z.infer<typeof GrantType>[];
  token_endpoint_auth_method: z.infer<typeof AuthMethod>;
  scope: string;
  default_resource: string | null;
  allowed_resources: string[];
  payload_hook: z.infer<typeof PayloadHookConfig> | null;
};
