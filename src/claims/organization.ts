import type { OrganizationRequest } from './scopes.ts';

export type Membership = { id: string; alias: string; name: string; roles: string[]; attributes: Record<string, unknown> };

export type OrganizationSelection =
  | { ok: true; inClaim: Membership[]; active: Membership | null }
  | { ok: false; error: 'not_member'; alias: string }
  | { ok: false; error: 'choice_required'; choices: Membership[] };

/**
 * Which organizations go into the `organization` claim and which one is active (SPEC 3).
 * `remembered` is the grant's active organization id; `chosen` an alias picked just now
 * (organization page, or a refresh with `organization=<alias>`). A remembered organization the
 * user has since left is forgotten.
 */
export function selectOrganizations(
  request: OrganizationRequest,
  memberships: readonly Membership[],
  remembered: string | null,
  chosen?: string,
): OrganizationSelection {
  const byAlias = (alias: string) => memberships.find((m) => m.alias === alias);
  if (chosen !== undefined && !byAlias(chosen)) return { ok: false, error: 'not_member', alias: chosen };
  const still = memberships.find((m) => m.id === remembered) ?? null;
  switch (request.kind) {
    case 'none':
      return { ok: true, inClaim: [], active: null };
    case 'all': {
      const active = (chosen !== undefined ? byAlias(chosen) : undefined) ?? still ?? (memberships.length === 1 ? memberships[0]! : null);
      return { ok: true, inClaim: [...memberships], active };
    }
    case 'aliases': {
      const picked: Membership[] = [];
      for (const alias of request.aliases) {
        const m = byAlias(alias);
        if (!m) return { ok: false, error: 'not_member', alias };
        picked.push(m);
      }
      const active =
        (chosen !== undefined ? picked.find((m) => m.alias === chosen) : undefined) ?? (picked.length === 1 ? picked[0]! : picked.find((m) => m.id === remembered) ?? null);
      return { ok: true, inClaim: picked, active };
    }
    case 'one': {
      const active = (chosen !== undefined ? byAlias(chosen) : undefined) ?? still ?? (memberships.length === 1 ? memberships[0]! : null);
      if (!active && memberships.length > 1) return { ok: false, error: 'choice_required', choices: [...memberships] };
      return { ok: true, inClaim: active ? [active] : [], active };
    }
  }
}

/**
 * The Keycloak-compatible claim, keyed by alias: `{ acme: { id, name, roles, ...attributes } }`.
 * Membership attributes come first so they can never replace id, name or roles.
 */
export function organizationClaim(inClaim: readonly Membership[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const m of inClaim) out[m.alias] = { ...m.attributes, id: m.id, name: m.name, roles: [...m.roles] };
  return out;
}

/** The active organization as the payload hook sees it (SPEC 5 input). */
export const hookOrganization = (m: Membership | null) => (m ? { id: m.id, alias: m.alias, roles: [...m.roles] } : null);
