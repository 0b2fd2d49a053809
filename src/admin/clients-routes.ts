import Router from '@koa/router';
import type { Database } from '../db/connect.ts';
import { ClientPatch, NewClient, type Client } from '../model/client.ts';
import { NewResourceServer } from '../model/resource-server.ts';
import { createClient, deleteClient, findClient, rotateClientSecret, updateClient } from '../storage/clients.ts';
import { createResourceServer, deleteResourceServer, findResourceServer, listResourceServers } from '../storage/resource-servers.ts';
import { readJson } from './json-body.ts';
import { Problem } from './problem.ts';
import { requireScope } from './auth.ts';
import { audit } from './audit.ts';
import { pageAnswer, PageQuery, readQuery, requestedPage } from './paging.ts';
import { hookUrlProblem, type AddressPolicy } from '../hooks/address-policy.ts';

/** A client as the API shows it: the secret only right after it was made, a hook's secret never. */
function shown(c: Client, withSecret = false) {
  const { client_secret, payload_hook, ...rest } = c;
  const hook = payload_hook && 'secret' in payload_hook ? { ...payload_hook, secret: undefined, secret_set: true } : payload_hook;
  return { ...rest, payload_hook: hook ?? null, ...(withSecret ? { client_secret } : {}) };
}

/** A client's own webhook must point where TESSERA_HOOK_ALLOWED_HOSTS allows (public addresses by default): 422 otherwise. */
function checkHookUrl(hook: { url?: string } | object | null | undefined, policy: AddressPolicy) {
  const url = hook && 'url' in hook ? hook.url : undefined;
  const problem = url === undefined ? undefined : hookUrlProblem(url, policy);
  if (problem) throw new Problem(422, 'Invalid body', 'the payload hook URL is refused', [{ path: '/payload_hook/url', message: problem }]);
}

/** Logout tokens go where a client's webhook may go: the same address policy (SSRF), checked at registration. */
function checkBackchannelUri(uri: string | null | undefined, policy: AddressPolicy) {
  const problem = uri ? hookUrlProblem(uri, policy) : undefined;
  if (problem) throw new Problem(422, 'Invalid body', 'the back-channel logout URI is refused', [{ path: '/backchannel_logout_uri', message: problem }]);
}

/** Clients and resource servers (SPEC 8). */
export function clientsRoutes(db: Database, hookPolicy: AddressPolicy): Router {
  const router = new Router();
  const admin = requireScope('admin');
  const client = async (id: string) => {
    const found = await findClient(db, id);
    if (!found) throw new Problem(404, 'Not found', `no client ${id}`);
    return found;
  };

  router.post('/clients', admin, async (ctx) => {
    const input = NewClient.parse(await readJson(ctx));
    checkHookUrl(input.payload_hook, hookPolicy);
    checkBackchannelUri(input.backchannel_logout_uri, hookPolicy);
    const created = await createClient(db, input);
    audit(ctx, 'client.create', { client_id: created.client_id });
    ctx.status = 201;
    ctx.set('location', `/admin/v1/clients/${created.client_id}`);
    ctx.body = shown(created, true);
  });

  router.get('/clients/:id', admin, async (ctx) => {
    ctx.body = shown(await client(ctx.params.id!));
  });

  router.patch('/clients/:id', admin, async (ctx) => {
    const patch = ClientPatch.parse(await readJson(ctx));
    checkHookUrl(patch.payload_hook, hookPolicy);
    checkBackchannelUri(patch.backchannel_logout_uri, hookPolicy);
    await client(ctx.params.id!);
    const updated = (await updateClient(db, ctx.params.id!, patch))!;
    audit(ctx, 'client.update', { client_id: updated.client_id, fields: Object.keys(patch) });
    ctx.body = shown(updated);
  });

  router.delete('/clients/:id', admin, async (ctx) => {
    if (ctx.params.id === ctx.state.admin.clientId) throw new Problem(409, 'Conflict', 'a client cannot delete itself');
    if (!(await deleteClient(db, ctx.params.id!))) throw new Problem(404, 'Not found', `no client ${ctx.params.id}`);
    audit(ctx, 'client.delete', { client_id: ctx.params.id });
    ctx.status = 204;
  });

  router.post('/clients/:id/secret', admin, async (ctx) => {
    const found = await client(ctx.params.id!);
    const rotated = await rotateClientSecret(db, found.client_id);
    if (!rotated) throw new Problem(409, 'Conflict', 'a public client has no secret');
    audit(ctx, 'client.secret_rotate', { client_id: found.client_id });
    ctx.body = shown(rotated, true);
  });

  router.post('/resource-servers', admin, async (ctx) => {
    const created = await createResourceServer(db, NewResourceServer.parse(await readJson(ctx)));
    audit(ctx, 'resource_server.create', { identifier: created.identifier });
    ctx.status = 201;
    ctx.body = created;
  });

  router.get('/resource-servers', admin, async (ctx) => {
    const page = requestedPage(readQuery(PageQuery, ctx.query));
    ctx.body = pageAnswer(ctx, page, await listResourceServers(db, page), (r) => r.identifier);
  });

  // The identifier is a URL: it travels percent-encoded in the path.
  router.get('/resource-servers/:identifier', admin, async (ctx) => {
    const rs = await findResourceServer(db, ctx.params.identifier!);
    if (!rs) throw new Problem(404, 'Not found', `no resource server ${ctx.params.identifier}`);
    ctx.body = rs;
  });

  router.delete('/resource-servers/:identifier', admin, async (ctx) => {
    if (!(await deleteResourceServer(db, ctx.params.identifier!))) throw new Problem(404, 'Not found', `no resource server ${ctx.params.identifier}`);
    audit(ctx, 'resource_server.delete', { identifier: ctx.params.identifier });
    ctx.status = 204;
  });

  return router;
}
