import { z } from 'zod';
import { MfaPolicy } from './client.ts';

// The alias appears in scopes (organization:<alias>) and as a claim key, so it stays a plain token.
export const Alias = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ and -, up to 63');

export const NewOrganization = z.strictObject({
  alias: Alias,
  name: z.string().min(1).max(200),
  attributes: z.record(z.string(), z.unknown()).default({}),
  /** `required`: its members sign in with a second factor, for every client (src/signin/). */
  mfa: MfaPolicy.default('optional'),
});
export type NewOrganization = z.input<typeof NewOrganization>;

export const Membership = z.strictObject({
  roles: z.array(z.string().min(1).max(100)).default([]),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
export type Membership = z.input<typeof Membership>;

export type Organization = { id: string; alias: string; name: string; attributes: Record<string, unknown>; mfa: 'optional' | 'required' };

export const OrganizationPatch = z.strictObject({
  alias: Alias.optional(),
  name: z.string().min(1).max(200).optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  mfa: MfaPolicy.optional(),
});
export type OrganizationPatch = z.infer<typeof OrganizationPatch>;
