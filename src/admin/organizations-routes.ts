import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { Membership, NewOrganization, OrganizationPatch } from '../model/organization.ts';
import {
  createOrganization,
  deleteOrganization,
  findOrganization,
  listMembers,
  listOrganizations,
  putMembership,
  removeMembership,
  updateOrganization,
} from '../storage/organizations.ts';
import { findUserById } from '../storage/users.ts';
import { registerOrganizationScope, unregisterOrganizationScope } from '../oidc/organization-scopes.ts';
import { readJson } from './json-body.ts';
import { Problem } from './problem.ts';
import { requireScope } from './auth.ts';
import { audit } from './audit.ts';
import { pageAnswer, PageQuery, readQuery, requestedPage } from './paging.ts';
import { organizationClaim } from '../claims/organization.ts';
import { TOKEN_CLAIMS_CHANGE, organizationGrants, type Signals } from '../signals/index.ts';
import type { Organization } from '../model/organization.ts';

type MemberRow = { user_id: string; roles: string[]; attributes: Record<string, unknown> };
const parsed = <T>(v: T | string): T => (typeof v === 'string' ? JSON.parse(v) : v);
const entry = (o: Organization, m: MemberRow) => organizationClaim([{ id: o.id, alias: o.alias, name: o.name, roles: parsed(m.roles), attributes: parsed(m.attributes) }])[o.alias]!;

/** Organizations and memberships (SPEC 8); `{org}` is an id or an alias. */
export function organizationsRoutes(provider: Provider, db: Database, signals: Signals): Router {
  // CAEP token-claims-change, in the transaction of the write, for clients whose grants release this organization.
  const changed = (trx: Database, aliases: string[], items: Array<{ user_id: string; organization: Record<string, unknown> }>) =>
    signals.forGrants(trx, TOKEN_CLAIMS_CHANGE, items.map((i) => ({ user_id: i.user_id, event: { claims: { organization: i.organization } } })), organizationGrants(...aliases));
  const members = (trx: Database, organizationId: string): Promise<MemberRow[]> => trx('memberships').where({ organization_id: organizationId }).select('user_id', 'roles', 'attributes');
  const router = new Router();
  const admin = requireScope('admin');
  const org = async (ref: string) => {
    const found = await findOrganization(db, ref);
    if (!found) throw new Problem(404, 'Not found', `no organization ${ref}`);
    return found;
  };

  router.post('/organizations', admin, async (ctx) => {
    const created = await createOrganization(db, NewOrganization.parse(await readJson(ctx)));
    registerOrganizationScope(provider, created.alias);
    audit(ctx, 'organization.create', { organization_id: created.id, alias: created.alias });
    ctx.status = 201;
    ctx.set('location', `/admin/v1/organizations/${created.id}`);
    ctx.body = created;
  });

  router.get('/organizations', admin, async (ctx) => {
    const page = requestedPage(readQuery(PageQuery, ctx.query));
    ctx.body = pageAnswer(ctx, page, await listOrganizations(db, page), (o) => o.alias);
  });

  router.get('/organizations/:org', admin, async (ctx) => {
    ctx.body = await org(ctx.params.org!);
  });

  router.patch('/organizations/:org', admin, async (ctx) => {
    const patch = OrganizationPatch.parse(await readJson(ctx));
    const before = await org(ctx.params.org!);
    const updated = await db.transaction(async (trx) => {
      const saved = (await updateOrganization(trx, before.id, patch))!;
      if (saved.alias !== before.alias || saved.name !== before.name) {
        const renamed = saved.alias !== before.alias;
        const all = await members(trx, saved.id);
        await changed(trx, renamed ? [before.alias, saved.alias] : [saved.alias], all.map((m) => ({ user_id: m.user_id, organization: { [saved.alias]: entry(saved, m), ...(renamed ? { [before.alias]: null } : {}) } })));
      }
      return saved;
    });
    signals.nudge();
    if (before.alias !== updated.alias) unregisterOrganizationScope(provider, before.alias);
    registerOrganizationScope(provider, updated.alias);
    audit(ctx, 'organization.update', { organization_id: updated.id, fields: Object.keys(patch) });
    ctx.body = updated;
  });

  router.delete('/organizations/:org', admin, async (ctx) => {
    const found = await org(ctx.params.org!);
    await db.transaction(async (trx) => {
      const all = await members(trx, found.id);
      await changed(trx, [found.alias], all.map((m) => ({ user_id: m.user_id, organization: { [found.alias]: null } })));
      await deleteOrganization(trx, found.id);
    });
    signals.nudge();
    unregisterOrganizationScope(provider, found.alias);
    audit(ctx, 'organization.delete', { organization_id: found.id });
    ctx.status = 204;
  });

  router.get('/organizations/:org/members', admin, async (ctx) => {
    const { id } = await org(ctx.params.org!);
    const page = requestedPage(readQuery(PageQuery, ctx.query));
    ctx.body = pageAnswer(ctx, page, await listMembers(db, id, page), (m) => m.username);
  });

  router.put('/organizations/:org/members/:user', admin, async (ctx) => {
    const input = Membership.parse(await readJson(ctx));
    const found = await org(ctx.params.org!);
    const user = await findUserById(db, ctx.params.user!);
    if (!user) throw new Problem(404, 'Not found', `no user ${ctx.params.user}`);
    const saved = await db.transaction(async (trx) => {
      const row = await putMembership(trx, found.id, user.id, input);
      await changed(trx, [found.alias], [{ user_id: user.id, organization: { [found.alias]: entry(found, row) } }]);
      return row;
    });
    signals.nudge();
    audit(ctx, 'membership.put', { organization_id: found.id, user_id: user.id, roles: saved.roles });
    ctx.body = saved;
  });

  router.delete('/organizations/:org/members/:user', admin, async (ctx) => {
    const found = await org(ctx.params.org!);
    const removed = await db.transaction(async (trx) => {
      const gone = await removeMembership(trx, found.id, ctx.params.user!);
      if (gone) await changed(trx, [found.alias], [{ user_id: ctx.params.user!, organization: { [found.alias]: null } }]);
      return gone;
    });
    if (!removed) throw new Problem(404, 'Not found', 'no such membership');
    signals.nudge();
    audit(ctx, 'membership.delete', { organization_id: found.id, user_id: ctx.params.user });
    ctx.status = 204;
  });

  return router;
}
