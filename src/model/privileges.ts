import { z } from 'zod';
import { JsonValue } from './json.ts';

/** A space-separated list of scope tokens (RFC 6749 characters), as stored and released as `user_scope`. */
export const ScopeString = z
  .string()
  .max(8192)
  .regex(/^([\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*)?$/, 'space-separated scope tokens, without leading, trailing or double spaces');

/** The default budget of a stored privileges `profile`, as JSON text (TESSERA_MAX_PRIVILEGES_PROFILE_BYTES). */
export const DEFAULT_MAX_PROFILE_BYTES = 16 * 1024;

/**
 * Why a profile is over the budget, or undefined. The profile is copied into ID tokens, access
 * tokens and userinfo: a bounded profile keeps every token it goes into bounded too.
 */
export function profileBudgetProblem(profile: unknown, maxBytes: number): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(profile ?? null), 'utf8');
  return bytes > maxBytes ? `is ${bytes} bytes as JSON; at most ${maxBytes} (TESSERA_MAX_PRIVILEGES_PROFILE_BYTES)` : undefined;
}

/** PUT /users/{id}/privileges: the whole value, replaced. `profile` is any JSON value. */
export const PrivilegesInput = z.strictObject({
  profile: JsonValue.default(null),
  scope: ScopeString.default(''),
});
export type PrivilegesInput = z.input<typeof PrivilegesInput>;

/** PUT /privileges: up to 1000 users at once, each named by exactly one of its identifiers. */
export const BulkPrivilegesInput = z.strictObject({
  items: z
    .array(
      z
        .strictObject({
          user_id: z.uuid().optional(),
          username: z.string().min(1).optional(),
          external_id: z.string().min(1).optional(),
          profile: JsonValue.default(null),
          scope: ScopeString.default(''),
        })
        .refine((i) => [i.user_id, i.username, i.external_id].filter((x) => x !== undefined).length === 1, {
          message: 'name the user by exactly one of user_id, username, external_id',
        }),
    )
    .min(1)
    .max(1000),
});
