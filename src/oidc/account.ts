import type { FindAccount } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { findUserById } from '../storage/users.ts';
import { standardClaims } from '../claims/standard.ts';

/**
 * oidc-provider's findAccount: read at every token issue, userinfo call and refresh, so a disabled
 * or deleted user stops getting tokens at once (the refresh answers invalid_grant).
 * The claims stage is where later claim sources (organizations, privileges, hook) join.
 */
export function createFindAccount(db: Database): FindAccount {
  return async (_ctx, sub) => {
    const user = await findUserById(db, sub);
    if (!user || !user.enabled) return undefined;
    return {
      accountId: user.id,
      claims: async () => standardClaims(user),
    };
  };
}
