import type { FindAccount } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { findUserById } from '../storage/users.ts';
import { standardClaims } from '../claims/standard.ts';
import type { TokenClaims } from './token-claims.ts';

/**
 * oidc-provider's findAccount: read at every token issue, userinfo call and refresh, so a disabled
 * or deleted user stops getting tokens at once (the refresh answers invalid_grant).
 * Organization and privileges join the standard claims here, and the scope filter then releases
 * each only under its scope.
 */
export function createFindAccount(db: Database, tokenClaims: TokenClaims): FindAccount {
  return async (ctx, sub) => {
    const user = tokenClaims.userRead(sub) ?? (await findUserById(db, sub));
    if (!user || !user.enabled) return undefined;
    return {
      accountId: user.id,
      claims: async () => ({ ...(ctx.oidc.route === 'token' || ctx.oidc.route === 'userinfo' ? await tokenClaims.forAccount(ctx) : {}), ...standardClaims(user) }),
    };
  };
}
