import type { Knex } from 'knex';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { revokeAccountSessions, type EndedSession } from '../storage/oidc-adapter.ts';
import { SESSION_REVOKED, type Signals } from '../signals/index.ts';
import { noticesOf, recordLogouts } from '../signals/backchannel.ts';
import { spendResetLinks } from '../signin/storage.ts';

/**
 * Signing a user out from outside a browser (admin logout, a disabled, deleted or re-passworded
 * user). One transaction: the caller's change (`before`), a CAEP session-revoked event for each
 * stream whose client the user has a grant with (written before the grants go), the sessions,
 * grants and tokens themselves, a back-channel logout row for each client of each ended session
 * that registered a `backchannel_logout_uri` (taken from the sessions as they are deleted), and
 * what must follow (`after`, such as deleting the user). The delivery worker then builds, signs and
 * POSTs each logout token (OpenID Connect Back-Channel Logout 1.0), with retries: a slow or failing
 * RP never delays the admin API, and a restart loses nothing.
 */
export type SignOut = {
  account(
    accountId: string,
    options: { reason: string; before?: (trx: Knex) => Promise<void>; after?: (trx: Knex) => Promise<void> },
  ): Promise<{ revoked: number; sessions: EndedSession[] }>;
};

/** The sign-out transaction's work, without a provider: the CLI runs it too (a running server delivers). */
export async function signOutInTransaction(
  trx: Knex,
  signals: Pick<Signals, 'forGrants'>,
  accountId: string,
  reason: string,
  // The user's own doing (a password reset or change): who initiated it, and a session to keep.
  by: { initiatingEntity: 'admin' | 'user'; keepSessionId?: string } = { initiatingEntity: 'admin' },
) {
  const why = by.initiatingEntity === 'user' ? { reason_user: { en: reason } } : { reason_admin: { en: reason } };
  await signals.forGrants(trx, SESSION_REVOKED, [{ user_id: accountId, event: { initiating_entity: by.initiatingEntity, ...why } }]);
  const result = await revokeAccountSessions(trx, accountId, by.keepSessionId);
  // A reset link issued before this sign-out (a password set, a disabled user) sets nothing any more.
  await spendResetLinks(trx, accountId);
  await recordLogouts(trx, noticesOf(result.sessions));
  return result;
}

type LogoutCapable = { prototype: { backchannelLogout(this: { clientId: string }, sub: string, sid?: string): Promise<void> } };

export function createSignOut(provider: Provider, db: Database, signals: Signals): SignOut {
  // RP-initiated logout (/session/end): oidc-provider calls each client's backchannelLogout before it
  // destroys the session. Rather than one attempt from the request, the logout is recorded (committed
  // before the session goes) and left to the delivery worker: one path for every sign-out.
  (provider.Client as unknown as LogoutCapable).prototype.backchannelLogout = async function (this: { clientId: string }, sub: string, sid?: string) {
    await recordLogouts(db, [{ client_id: this.clientId, sub, sid }]);
    signals.nudge();
  };

  return {
    async account(accountId, { reason, before, after }) {
      const ended = await db.transaction(async (trx) => {
        await before?.(trx);
        const result = await signOutInTransaction(trx, signals, accountId, reason);
        await after?.(trx);
        return result;
      });
      signals.nudge();
      return ended;
    },
  };
}
