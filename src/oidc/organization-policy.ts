import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { listMembershipsOfUser } from '../storage/organizations.ts';
import { findGrantContext } from '../storage/grant-context.ts';
import { ALL_ORGANIZATIONS_SCOPE, ORGANIZATION_SCOPE, aliasOfScope, organizationRequest, splitScope } from '../claims/scopes.ts';
import { selectOrganizations, type OrganizationSelection } from '../claims/organization.ts';
import { requestedScope } from './requested-scope.ts';

const { Prompt, Check, base } = interactionPolicy;

export const ORGANIZATION_PROMPT = 'organization';

/** The organization chosen on the organization page during this authorization, if any. */
export const chosenOrganization = (ctx: KoaContextWithOIDC) => (ctx.oidc.result?.organization as { alias?: string } | undefined)?.alias;

/**
 * Decides the organization of an authorization request (SPEC 3), with the scopes exactly as asked
 * (an alias unknown to the provider still counts): a non-member asking for `organization:<alias>`
 * is refused; a member of several asking for `organization` picks one, unless the grant has one.
 */
const selections = new WeakMap<object, Promise<OrganizationSelection | undefined>>();

/** Once per request: both checks and the grant recorder read the same answer. */
export function authorizationSelection(ctx: KoaContextWithOIDC, db: Database): Promise<OrganizationSelection | undefined> {
  let p = selections.get(ctx);
  if (!p) selections.set(ctx, (p = computeSelection(ctx, db)));
  return p;
}

async function computeSelection(ctx: KoaContextWithOIDC, db: Database): Promise<OrganizationSelection | undefined> {
  const accountId = ctx.oidc.session?.accountId;
  if (!accountId) return undefined;
  const request = organizationRequest(requestedScope(ctx));
  if (request.kind === 'none') return undefined;
  const grantId = ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
  const [memberships, grant] = await Promise.all([listMembershipsOfUser(db, accountId), grantId ? findGrantContext(db, grantId) : undefined]);
  return selectOrganizations(request, memberships, grant?.organization_id ?? null, chosenOrganization(ctx));
}

/**
 * The `organization:<alias>` values of a request that a grant's consent already covers: consent to
 * `organization` (or `organization:*`) is consent to choosing any organization the user belongs to,
 * so a switch by `organization:<alias>` (with `prompt=none`, too) asks no new consent. Whether the
 * user is a member is still decided by the organization prompt below (access_denied otherwise).
 */
export function organizationScopesCoveredByGrant(grantScope: string, requested: readonly string[]): string[] {
  const granted = splitScope(grantScope);
  if (!granted.includes(ORGANIZATION_SCOPE) && !granted.includes(ALL_ORGANIZATIONS_SCOPE)) return [];
  return requested.filter((s) => aliasOfScope(s) !== undefined && !granted.includes(s));
}

/** oidc-provider's default prompts (login, consent) with the organization prompt between them. */
export function interactionPolicyWithOrganizations(db: Database) {
  const policy = base();
  const organization = new Prompt(
    { name: ORGANIZATION_PROMPT, requestable: false },
    new Check('organization_membership', 'the user is not a member of a requested organization', 'access_denied', async (ctx: KoaContextWithOIDC) => {
      const selection = await authorizationSelection(ctx, db);
      if (selection && !selection.ok && selection.error === 'not_member') {
        throw new errors.AccessDenied(`the user is not a member of organization ${selection.alias}`);
      }
      return Check.NO_NEED_TO_PROMPT;
    }),
    new Check('organization_choice', 'the user belongs to several organizations and must choose one', 'interaction_required', async (ctx: KoaContextWithOIDC) => {
      const selection = await authorizationSelection(ctx, db);
      return selection !== undefined && !selection.ok && selection.error === 'choice_required' ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }, async (ctx: KoaContextWithOIDC) => {
      const selection = await authorizationSelection(ctx, db);
      const choices = selection && !selection.ok && selection.error === 'choice_required' ? selection.choices : [];
      return { choices: choices.map((c) => ({ alias: c.alias, name: c.name, roles: c.roles })) };
    }),
  );
  policy.add(organization, 1);
  return policy;
}
