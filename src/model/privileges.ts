import { z } from 'zod';

/** A space-separated list of scope tokens (RFC 6749 characters), as stored and released as `user_scope`. */
export const ScopeString = z
  .string()
  .max(8192)
  .regex(/^([\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*)?$/, 'space-separated scope tokens, without leading, trailing or double spaces');

/** PUT /users/{id}/privileges: the whole value, replaced. `profile` is any JSON value. */
export const PrivilegesInput = z.strictObject({
  profile: z.json().default(null),
  scope: ScopeString.default(''),
});
export type PrivilegesInput = z.input<typeof PrivilegesInput>;
