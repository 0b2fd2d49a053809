import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { UnitOfWork, withUnitOfWork } from '../storage/unit-of-work.ts';
import { applyRemovals, commitUnit, revokeGrant, spentByUnit } from '../storage/unit-of-work-commit.ts';

/**
 * A code exchange or a refresh happens whole, or not at all. oidc-provider spends the code or
 * refresh token, then stores the new refresh token and access token one by one; a database
 * failure in between used to leave the token spent and nothing issued, so the app's retry looked
 * like a replay and revoked the grant. Here the token endpoint runs with a unit of work: the
 * storage adapter records its writes, and when the answer is ready (before it is sent) they
 * commit in one statement. If that fails, nothing changed and the answer is 503 with Retry-After:
 * the retry, with the same code or refresh token, succeeds. A token another request spent first
 * is a replay: the grant is revoked, as oidc-provider does for one it sees.
 *
 * Registered after answerDatabaseUnavailable, which turns a database failure here into the 503.
 */
export function commitTokenRequests(provider: Provider, db: Database, log: Logger): void {
  const tokenPath = provider.pathFor('token');
  provider.use(async (ctx, next) => {
    if (ctx.path !== tokenPath || ctx.method !== 'POST') return next();
    const unit = new UnitOfWork();
    await withUnitOfWork(unit, next);
    // An error answer issues nothing; only a replay's revocation (recorded by oidc-provider) stands.
    if (ctx.status < 200 || ctx.status >= 300 || (!unit.consume && unit.upserts.size === 0 && !unit.grantContext)) {
      await applyRemovals(db, unit);
      return;
    }
    let committed: boolean;
    try {
      committed = (await commitUnit(db, unit)).committed;
    } catch (err) {
      // The connection may have died after the commit but before its answer: the token's
      // consumed_by tells whether this request's writes are in.
      if (!(isDatabaseUnavailable(err) && (await spentByUnit(db, unit)))) {
        log.warn('token request not committed', { err: (err as Error).message });
        ctx.state.databaseUnavailable = true;
        ctx.status = 500;
        ctx.body = { error: 'server_error' };
        return;
      }
      committed = true;
    }
    if (committed) return;
    const grantId = unit.spendable?.payload?.grantId;
    if (typeof grantId === 'string') await revokeGrant(db, grantId);
    ctx.status = 400;
    ctx.body = { error: 'invalid_grant', error_description: `${unit.consume?.model === 'AuthorizationCode' ? 'authorization code' : 'refresh token'} already used` };
  });
}
