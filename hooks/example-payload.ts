/**
 * An example payload hook module (SPEC 5).
 *
 * Enable it for every client:   TESSERA_PAYLOAD_HOOK=hooks/example-payload.ts
 * or for one client:            "payload_hook": { "module": "hooks/example-payload.ts" }
 * (paths are relative to TESSERA_HOOKS_DIR, by default the directory Tessera starts in).
 *
 * The default export receives the input of one token response and returns an object whose members
 * become claims, or undefined/null for none. Anything else, a throw, or taking longer than
 * `timeout_ms` (default 1500 ms) is a hook failure, handled by the hook's failure policy.
 * The module is imported once and then called for every token issued, refreshes and
 * client_credentials included, so keep it fast and keep state (clients, pools) at module level.
 *
 * The second argument carries an AbortSignal, aborted when Tessera stops waiting: pass it on to
 * fetch() or your database driver so abandoned work stops too.
 */
import type { HookInput } from '../src/hooks/input.ts';

/** Stand-in for your own data: a tier per organization alias. */
const TIERS: Record<string, string> = { acme: 'gold', globex: 'silver' };

/** Stand-in for your own authorization model: what each organization role may do. */
const ROLE_PERMISSIONS: Record<string, string[]> = {
  admin: ['billing:read', 'billing:write', 'members:manage', 'projects:read', 'projects:write'],
  editor: ['projects:read', 'projects:write'],
  viewer: ['projects:read'],
};

export default async function examplePayload(input: HookInput, _context?: { signal: AbortSignal }): Promise<Record<string, unknown> | undefined> {
  // A machine client (client_credentials): no user, no organization. Give it what its scope says.
  if (input.sub === undefined) {
    const scopes = input.scope.split(' ').filter(Boolean);
    return scopes.includes('reports') ? { service_account: true, permissions: ['reports:read'] } : undefined;
  }

  // A user without an active organization (no organization scope, or none chosen).
  if (input.organization === null) return { tenant_tier: 'free', permissions: [] };

  const permissions = new Set<string>();
  for (const role of input.organization.roles) for (const p of ROLE_PERMISSIONS[role] ?? []) permissions.add(p);
  return {
    tenant_tier: TIERS[input.organization.alias] ?? 'standard',
    permissions: [...permissions].sort(),
    // The audience the access token is for, when a resource server was asked for.
    ...(input.resource ? { api: input.resource } : {}),
  };
}
