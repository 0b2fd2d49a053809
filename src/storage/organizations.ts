import type { Database } from '../db/connect.ts';
import { Conflict, NotFound, isUniqueViolation } from '../errors.ts';
import { Membership, NewOrganization, OrganizationPatch, type Organization } from '../model/organization.ts';
import { isUuid } from './users.ts';
import type { Page } from '../model/page.ts';

export async function createOrganization(db: Database, input: NewOrganization): Promise<Organization> {
  const org = NewOrganization.parse(input);
  try {
    const [row] = await db('organizations')
      .insert({ ...org, attributes: JSON.stringify(org.attributes) })
      .returning(['id', 'alias', 'name', 'attributes', 'mfa']);
    return row as Organization;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`organization ${org.alias} already exists`);
    throw err;
  }
}

/** Finds an organization by id or alias, as the API and CLI accept either. */
export async function findOrganization(db: Database, idOrAlias: string): Promise<Organization | undefined> {
  const q = db('organizations').select(['id', 'alias', 'name', 'attributes', 'mfa']);
  return (isUuid(idOrAlias) ? q.where({ id: idOrAlias }) : q.where({ alias: idOrAlias })).first();
}

export async function putMembership(db: Database, organizationId: string, userId: string, input: Membership) {
  const m = Membership.parse(input);
  const row = { organization_id: organizationId, user_id: userId, roles: JSON.stringify(m.roles), attributes: JSON.stringify(m.attributes) };
  try {
    const [saved] = await db('memberships').insert(row).onConflict(['organization_id', 'user_id']).merge(['roles', 'attributes']).returning(['organization_id', 'user_id', 'roles', 'attributes']);
    return saved as { organization_id: string; user_id: string; roles: string[]; attributes: Record<string, unknown> };
  } catch (err) {
    if ((err as { code?: string }).code === '23503') throw new NotFound('no such user or organization');
    throw err;
  }
}

/** One user's membership of one organization, or undefined when they are not a member. */
export async function findMembership(db: Database, organizationId: string, userId: string): Promise<{ roles: string[]; attributes: Record<string, unknown> } | undefined> {
  return db('memberships').where({ organization_id: organizationId, user_id: userId }).first('roles', 'attributes');
}

export type MembershipOfUser = { id: string; alias: string; name: string; roles: string[]; attributes: Record<string, unknown> };

/** A user's organizations with their roles and membership attributes, in alias order (stable claims). */
export async function listMembershipsOfUser(db: Database, userId: string, page?: Page): Promise<MembershipOfUser[]> {
  const q = db('memberships as m')
    .join('organizations as o', 'o.id', 'm.organization_id')
    .where('m.user_id', userId)
    .select('o.id', 'o.alias', 'o.name', 'm.roles', 'm.attributes')
    .orderBy('o.alias');
  if (page) q.limit(page.limit + 1);
  if (page?.after !== undefined) q.where('o.alias', '>', page.after);
  return q;
}

/** Which of these aliases name an organization: one statement, however many are asked. */
export async function existingAliases(db: Database, aliases: string[]): Promise<Set<string>> {
  if (!aliases.length) return new Set();
  return new Set(await db('organizations').whereIn('alias', aliases).pluck('alias'));
}

export async function listOrganizationAliases(db: Database): Promise<string[]> {
  return db('organizations').pluck('alias');
}

/** One page in alias order, with one row more than the page's limit (see admin/paging.ts). */
export async function listOrganizations(db: Database, page: Page): Promise<Organization[]> {
  const q = db('organizations').select(['id', 'alias', 'name', 'attributes', 'mfa']).orderBy('alias').limit(page.limit + 1);
  if (page.after !== undefined) q.where('alias', '>', page.after);
  return q;
}

export async function updateOrganization(db: Database, id: string, patch: OrganizationPatch): Promise<Organization | undefined> {
  const p = OrganizationPatch.parse(patch);
  const values: Record<string, unknown> = { ...p, updated_at: db.fn.now() };
  if (p.attributes !== undefined) values.attributes = JSON.stringify(p.attributes);
  try {
    const [row] = await db('organizations').where({ id }).update(values).returning(['id', 'alias', 'name', 'attributes', 'mfa']);
    return row as Organization | undefined;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`organization ${p.alias} already exists`);
    throw err;
  }
}

export async function deleteOrganization(db: Database, id: string): Promise<boolean> {
  return (await db('organizations').where({ id }).delete()) > 0;
}

/** One page of members in username order, with one row more than the page's limit (see admin/paging.ts). */
export async function listMembers(db: Database, organizationId: string, page: Page): Promise<{ user_id: string; username: string; roles: string[]; attributes: Record<string, unknown> }[]> {
  const q = db('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where('m.organization_id', organizationId)
    .select('u.id as user_id', 'u.username', 'm.roles', 'm.attributes')
    .orderBy('u.username')
    .limit(page.limit + 1);
  if (page.after !== undefined) q.where('u.username', '>', page.after);
  return q;
}

export async function removeMembership(db: Database, organizationId: string, userId: string): Promise<boolean> {
  // A user id that is no uuid names no membership (and PostgreSQL would refuse to compare it).
  if (!isUuid(userId)) return false;
  return (await db('memberships').where({ organization_id: organizationId, user_id: userId }).delete()) > 0;
}
