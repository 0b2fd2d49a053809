/** Stored privileges as claims (SPEC 4): never under the name `profile`, which is a standard claim. */
export function privilegeClaims(stored: { profile: unknown; scope: string } | undefined): { user_profile: unknown; user_scope: string } {
  return { user_profile: stored?.profile ?? null, user_scope: stored?.scope ?? '' };
}
