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

/** Organizations and memberships (SPEC 8); `{org}` is an id or an alias. */
export function organizationsRoutes(provider: Provider, db: Database): Router {
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
    const updated = (await updateOrganization(db, before.id, patch))!;
    if (before.alias !== updated.alias) unregisterOrganizationScope(provider, before.alias);
    registerOrganizationScope(provider, updated.alias);
    audit(ctx, 'organization.update', { organization_id: updated.id, fields: Object.keys(patch) });
    ctx.body = updated;
  });

  router.delete('/organizations/:org', admin, async (ctx) => {
    const found = await org(ctx.params.org!);
    await deleteOrganization(db, found.id);
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
    const saved = await putMembership(db, found.id, user.id, input);
    audit(ctx, 'membership.put', { organization_id: found.id, user_id: user.id, roles: saved.roles });
    ctx.body = saved;
  });

  router.delete('/organizations/:org/members/:user', admin, async (ctx) => {
    const found = await org(ctx.params.org!);
    if (!(await removeMembership(db, found.id, ctx.params.user!))) throw new Problem(404, 'Not found', 'no such membership');
    audit(ctx, 'membership.delete', { organization_id: found.id, user_id: ctx.params.user });
    ctx.status = 204;
  });

  return router;
}
