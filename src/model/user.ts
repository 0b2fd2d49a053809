import { z } from 'zod';
import { Username } from './username.ts';

export { Username };

export const NewUser = z.strictObject({
  username: Username,
  password: z.string().min(8, 'must be at least 8 characters').max(1024).optional(),
  email: z.email().optional(),
  email_verified: z.boolean().optional(),
  name: z.string().max(500).optional(),
  given_name: z.string().max(200).optional(),
  family_name: z.string().max(200).optional(),
  external_id: z.string().min(1).max(500).optional(),
  enabled: z.boolean().optional(),
  /** Other standard OIDC claims to release under their scope (picture, locale, phone_number...). */
  claims: z.record(z.string(), z.unknown()).optional(),
});
export type NewUser = z.infer<typeof NewUser>;

/** PATCH /users/{id}: any of the same fields; null clears an optional one. */
export const UserPatch = z.strictObject({
  username: Username.optional(),
  password: z.string().min(8, 'must be at least 8 characters').max(1024).optional(),
  email: z.email().nullable().optional(),
  email_verified: z.boolean().optional(),
  name: z.string().max(500).nullable().optional(),
  given_name: z.string().max(200).nullable().optional(),
  family_name: z.string().max(200).nullable().optional(),
  external_id: z.string().min(1).max(500).nullable().optional(),
  enabled: z.boolean().optional(),
  claims: z.record(z.string(), z.unknown()).optional(),
});
export type UserPatch = z.infer<typeof UserPatch>;

export const UserQuery = z.strictObject({
  username: z.string().optional(),
  email: z.string().optional(),
  external_id: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** From the previous page's `next` link (admin/paging.ts). */
  cursor: z.string().max(2048).optional(),
});

export type User = {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  external_id: string | null;
  enabled: boolean;
  claims: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
};
