import type { Database } from '../db/connect.ts';
import { listMembershipsOfUser } from '../storage/organizations.ts';
import { findResourceServer } from '../storage/resource-servers.ts';
import { findGrantContext } from '../storage/grant-context.ts';
import { findUserById } from '../storage/users.ts';
import { organizationRequest, splitScope } from '../claims/scopes.ts';
import { selectOrganizations } from '../claims/organization.ts';
import { REQUESTED_SCOPE } from '../oidc/requested-scope.ts';
import type { ScopeFacts } from './scope-texts.ts';

type Interaction = {
  params: Record<string, unknown>;
  grantId?: string;
  result?: Record<string, unknown>;
  /** What the earlier steps of this authorization submitted (the sign-in, an organization choice). */
  lastSubmission?: Record<string, unknown>;
  session?: { accountId?: string };
};

/** Who is signed in, as the consent page names them: their name and username, or the username alone. */
export async function signedInUser(db: Database, accountId: string): Promise<string> {
  const user = await findUserById(db, accountId);
  if (!user) return accountId;
  return user.name ? `${user.name} (${user.username})` : user.username;
}

/**
 * The organization the answer will carry, decided as the token will decide it (SPEC 3): the one
 * chosen on the organization page, else the grant's, else the only one; and each API asked for by name.
 */
export async function scopeFacts(db: Database, brandName: string, interaction: Interaction, resourceScopes: Record<string, string[]>): Promise<ScopeFacts> {
  const accountId = interaction.session?.accountId;
  const sent = interaction.params[REQUESTED_SCOPE] ?? interaction.params.scope;
  const request = organizationRequest(splitScope(typeof sent === 'string' ? sent : ''));
  let organization: ScopeFacts['organization'] = { kind: 'unknown' };
  if (request.kind === 'all') organization = { kind: 'all' };
  else if (request.kind !== 'none' && accountId) {
    const chosen = ((interaction.result ?? interaction.lastSubmission)?.organization as { alias?: string } | undefined)?.alias;
    const [memberships, grant] = await Promise.all([listMembershipsOfUser(db, accountId), interaction.grantId ? findGrantContext(db, interaction.grantId) : undefined]);
    const selection = selectOrganizations(request, memberships, grant?.organization_id ?? null, chosen);
    if (selection.ok && selection.active) organization = { kind: 'one', name: selection.active.name, roles: selection.active.roles };
    else if (selection.ok && selection.inClaim.length) organization = { kind: 'several', names: selection.inClaim.map((m) => m.name) };
  }
  const apis = await Promise.all(
    Object.entries(resourceScopes).map(async ([identifier, scopes]) => {
      const server = await findResourceServer(db, identifier);
      return { name: server?.name || identifier, scopes, description: server?.description ?? undefined };
    }),
  );
  // By name: oidc-provider does not keep the order the resources were asked in.
  apis.sort((x, y) => x.name.localeCompare(y.name));
  return { brandName, organization, apis };
}
