import Router from '@koa/router';
import type { Context } from 'koa';
import type { Database } from '../db/connect.ts';
import { BulkPrivilegesInput, PrivilegesInput, profileBudgetProblem } from '../model/privileges.ts';
import { findUserById, resolveUserRefs } from '../storage/users.ts';
import { usernameKey } from '../model/username.ts';
import { deletePrivileges, findPrivileges, putManyPrivileges, putPrivileges, putPrivilegesIfVersion, type StoredPrivileges } from '../storage/privileges.ts';
import { readJson } from './json-body.ts';
import { Problem } from './problem.ts';
import { requireScope } from './auth.ts';
import { audit } from './audit.ts';
import { privilegeClaims } from '../claims/privileges.ts';
import { PRIVILEGES_GRANTS, TOKEN_CLAIMS_CHANGE, type Signals } from '../signals/index.ts';

const etag = (version: number) => `"${version}"`;

/**
 * If-Match as a version: a quoted number is that version; `*` matches any representation, and an
 * existing user always has one (version 0 when nothing is stored), so `*` only asks that the user
 * exists. A weak ETag never matches: If-Match uses strong comparison (RFC 9110 13.1.1).
 */
function ifMatch(ctx: Context): number | '*' | undefined {
  const header = ctx.get('if-match').trim();
  if (!header) return undefined;
  if (header === '*') return '*';
  if (/^W\/"\d{1,9}"$/.test(header)) throw new Problem(412, 'Precondition failed', 'a weak ETag never matches If-Match; send the ETag exactly as it was given');
  const m = /^"(\d{1,9})"$/.exec(header);
  if (!m) throw new Problem(400, 'Bad If-Match', 'If-Match must be an ETag from a previous answer, such as "3", or *');
  return Number(m[1]);
}

function answer(ctx: Context, p: StoredPrivileges | undefined) {
  const value = p ?? { profile: null, scope: '', version: 0, updated_at: null };
  ctx.set('etag', etag(value.version));
  ctx.body = { profile: value.profile, scope: value.scope, version: value.version, updated_at: value.updated_at };
}

async function userOr404(db: Database, id: string) {
  const user = await findUserById(db, id);
  if (!user) throw new Problem(404, 'Not found', `no user ${id}`);
  return user;
}

/**
 * A user's stored privileges (SPEC 4 and 8). A user with nothing stored reads as version 0, so
 * `If-Match: "0"` means "create only if nobody has written yet". Writes are conditional in SQL.
 */
export function privilegesRoutes(db: Database, maxProfileBytes: number, signals: Signals): Router {
  // CAEP token-claims-change, in the transaction of the write, for the clients whose grants release privileges.
  const changed = (trx: Database, items: Array<{ user_id: string; stored: { profile: unknown; scope: string } | undefined }>) =>
    signals.forGrants(trx, TOKEN_CLAIMS_CHANGE, items.map((i) => ({ user_id: i.user_id, event: { claims: privilegeClaims(i.stored) } })), PRIVILEGES_GRANTS);
  const router = new Router();
  const scope = requireScope('admin:privileges');
  const budget = (items: Array<{ profile: unknown; path: string }>) => {
    const errors = items.flatMap(({ profile, path }) => {
      const problem = profileBudgetProblem(profile, maxProfileBytes);
      return problem ? [{ path, message: problem }] : [];
    });
    if (errors.length) throw new Problem(422, 'Invalid body', 'the privileges profile is over its size budget', errors);
  };

  router.get('/users/:id/privileges', scope, async (ctx) => {
    await userOr404(db, ctx.params.id!);
    answer(ctx, await findPrivileges(db, ctx.params.id!));
  });

  router.put('/users/:id/privileges', scope, async (ctx) => {
    const input = PrivilegesInput.parse(await readJson(ctx));
    budget([{ profile: input.profile, path: '/profile' }]);
    const user = await userOr404(db, ctx.params.id!);
    const condition = ifMatch(ctx);
    // `*`: the user exists, so a representation does; reading the version first and writing on
    // it would answer 412 to a writer that merely lost a race it never asked to win.
    const saved: StoredPrivileges | undefined = await db.transaction(async (trx) => {
      const row = condition === undefined || condition === '*' ? await putPrivileges(trx, user.id, input) : await putPrivilegesIfVersion(trx, user.id, input, condition);
      if (row) await changed(trx, [{ user_id: user.id, stored: row }]);
      return row;
    });
    if (!saved) throw new Problem(412, 'Precondition failed', 'the privileges changed since the ETag you sent; read them again');
    signals.nudge();
    audit(ctx, 'privileges.put', { user_id: user.id, version: saved.version });
    answer(ctx, saved);
  });

  router.delete('/users/:id/privileges', scope, async (ctx) => {
    const user = await userOr404(db, ctx.params.id!);
    const condition = ifMatch(ctx);
    const removed = await db.transaction(async (trx) => {
      const gone = await deletePrivileges(trx, user.id, typeof condition === 'number' ? condition : undefined);
      if (gone) await changed(trx, [{ user_id: user.id, stored: undefined }]);
      return gone;
    });
    if (removed) signals.nudge();
    // Nothing stored is version 0: `"0"` matches it, as `*` matches anything.
    const matched = removed || condition === undefined || condition === '*' || (condition === 0 && !(await findPrivileges(db, user.id)));
    if (!matched) throw new Problem(412, 'Precondition failed', 'the privileges changed since the ETag you sent');
    if (removed) audit(ctx, 'privileges.delete', { user_id: user.id });
    ctx.status = 204;
  });

  router.put('/privileges', scope, async (ctx) => {
    const { items } = BulkPrivilegesInput.parse(await readJson(ctx));
    budget(items.map((item, n) => ({ profile: item.profile, path: `/items/${n}/profile` })));
    const refs = await resolveUserRefs(db, {
      ids: items.flatMap((i) => (i.user_id ? [i.user_id] : [])),
      usernames: items.flatMap((i) => (i.username ? [i.username] : [])),
      externalIds: items.flatMap((i) => (i.external_id ? [i.external_id] : [])),
    });
    const errors: Array<{ path: string; message: string }> = [];
    const resolved = items.map((item, n) => {
      const id = item.user_id ? (refs.ids.has(item.user_id) ? item.user_id : undefined) : item.username ? refs.usernames.get(usernameKey(item.username)) : refs.externalIds.get(item.external_id!);
      if (!id) errors.push({ path: `/items/${n}/${item.user_id ? 'user_id' : item.username ? 'username' : 'external_id'}`, message: 'no such user' });
      return { user_id: id!, profile: item.profile, scope: item.scope };
    });
    const seen = new Set<string>();
    resolved.forEach((r, n) => {
      if (r.user_id && seen.has(r.user_id)) errors.push({ path: `/items/${n}`, message: 'this user appears twice' });
      seen.add(r.user_id);
    });
    if (errors.length) throw new Problem(422, 'Invalid body', 'nothing was written: fix these items and send them all again', errors);
    const written = await db.transaction(async (trx) => {
      const out = await putManyPrivileges(trx, resolved);
      await changed(trx, resolved.map((r) => ({ user_id: r.user_id, stored: r })));
      return out;
    });
    signals.nudge();
    audit(ctx, 'privileges.bulk_put', { count: written.length });
    ctx.body = { items: written };
  });

  return router;
}
