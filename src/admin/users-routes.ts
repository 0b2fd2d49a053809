import Router from '@koa/router';
import type { Database } from '../db/connect.ts';
import { NewUser, UserPatch, UserQuery } from '../model/user.ts';
import { createUser, deleteUser, findUserById, findUsers, updateUser } from '../storage/users.ts';
import { listMembershipsOfUser } from '../storage/organizations.ts';
import type { SignOut } from '../oidc/backchannel-logout.ts';
import { CREDENTIAL_CHANGE, type Signals } from '../signals/index.ts';
import type { Passwords } from '../auth/passwords.ts';
import { readJson } from './json-body.ts';
import { Problem } from './problem.ts';
import { requireScope } from './auth.ts';
import { audit } from './audit.ts';
import { pageAnswer, PageQuery, readQuery, requestedPage } from './paging.ts';

/** The user an admin path names, or the 404 every admin route about a user answers. */
export async function userOr404(db: Database, id: string) {
  const user = await findUserById(db, id);
  if (!user) throw new Problem(404, 'Not found', `no user ${id}`);
  return user;
}

/** Users (SPEC 8). `id` is the `sub` of their tokens. Passwords are write-only. */
export function usersRoutes(db: Database, passwords: Passwords, signOut: SignOut, signals: Signals): Router {
  const router = new Router();
  const admin = requireScope('admin');
  const found = (id: string) => userOr404(db, id);

  router.post('/users', admin, async (ctx) => {
    const input = NewUser.parse(await readJson(ctx));
    const user = await createUser(db, input, passwords.hash);
    audit(ctx, 'user.create', { user_id: user.id, fields: Object.keys(input).filter((k) => k !== 'password') });
    ctx.status = 201;
    ctx.set('location', `/admin/v1/users/${user.id}`);
    ctx.body = user;
  });

  router.get('/users', admin, async (ctx) => {
    const query = readQuery(UserQuery, ctx.query);
    const page = requestedPage(query);
    ctx.body = pageAnswer(ctx, page, await findUsers(db, { ...query, after: page.after }), (u) => u.username);
  });

  router.get('/users/:id', admin, async (ctx) => {
    ctx.body = await found(ctx.params.id!);
  });

  router.patch('/users/:id', admin, async (ctx) => {
    const patch = UserPatch.parse(await readJson(ctx));
    await found(ctx.params.id!);
    // A disabled user is signed out at once, not at the next refresh; a new password signs out
    // whoever knew the old one (sessions and refresh tokens). Clients with a back-channel logout
    // URI are told, and streams hear session-revoked (and credential-change for a password), all
    // in the transaction of the change.
    let user;
    if (patch.enabled === false || patch.password !== undefined) {
      // Hashed before the transaction, which then holds its connection only for the writes.
      const hash = patch.password === undefined ? undefined : await passwords.hash(patch.password);
      await signOut.account(ctx.params.id!, {
        reason: patch.enabled === false ? 'user disabled' : 'password changed',
        before: async (trx) => {
          user = (await updateUser(trx, ctx.params.id!, patch, async () => hash!))!;
          if (patch.password !== undefined) {
            await signals.forGrants(trx, CREDENTIAL_CHANGE, [{ user_id: user.id, event: { credential_type: 'password', change_type: 'update', initiating_entity: 'admin' } }]);
          }
        },
      });
    } else {
      user = (await updateUser(db, ctx.params.id!, patch, passwords.hash))!;
    }
    audit(ctx, 'user.update', { user_id: user!.id, fields: Object.keys(patch) });
    ctx.body = user;
  });

  router.delete('/users/:id', admin, async (ctx) => {
    const user = await found(ctx.params.id!);
    await signOut.account(user.id, { reason: 'user deleted', after: async (trx) => void (await deleteUser(trx, user.id)) });
    audit(ctx, 'user.delete', { user_id: user.id });
    ctx.status = 204;
  });

  router.get('/users/:id/organizations', admin, async (ctx) => {
    const user = await found(ctx.params.id!);
    const page = requestedPage(readQuery(PageQuery, ctx.query));
    ctx.body = pageAnswer(ctx, page, await listMembershipsOfUser(db, user.id, page), (o) => o.alias);
  });

  router.post('/users/:id/logout', admin, async (ctx) => {
    const user = await found(ctx.params.id!);
    const { revoked } = await signOut.account(user.id, { reason: 'signed out by an administrator' });
    audit(ctx, 'user.logout', { user_id: user.id, revoked });
    ctx.body = { revoked };
  });

  return router;
}
