import type { Knex } from 'knex';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { revokeAccountSessions, type EndedSession } from '../storage/oidc-adapter.ts';
import { SESSION_REVOKED, type Signals } from '../signals/index.ts';

/**
 * Signing a user out from outside a browser (admin logout, a disabled, deleted or re-passworded
 * user). One transaction: the caller's change (`before`), a CAEP session-revoked event for each
 * stream whose client the user has a grant with (written before the grants go), the sessions,
 * grants and tokens themselves, and what must follow (`after`, such as deleting the user). Once
 * committed, each client of each ended session that registered a `backchannel_logout_uri` gets a
 * logout token (OpenID Connect Back-Channel Logout 1.0), built and signed by oidc-provider exactly
 * as at `/session/end`, in the background: a slow RP never delays the admin API.
 */
export type SignOut = {
  account(
    accountId: string,
    options: { reason: string; before?: (trx: Knex) => Promise<void>; after?: (trx: Knex) => Promise<void> },
  ): Promise<{ revoked: number; sessions: EndedSession[] }>;
  /** Sends logout tokens for sessions already ended and committed. */
  notify(sessions: EndedSession[]): Promise<void>;
};

export function createSignOut(provider: Provider, db: Database, log: Logger, signals: Signals): SignOut {
  async function send(clientId: string, accountId: string, sid: string | undefined) {
    try {
      const client = await provider.Client.find(clientId);
      if (!client?.backchannelLogoutUri) return;
      await (client as unknown as { backchannelLogout(sub: string, sid?: string): Promise<void> }).backchannelLogout(accountId, sid);
      log.info('backchannel logout sent', { client_id: clientId });
    } catch (err) {
      // The RP's answer or the network error; never the token.
      log.warn('backchannel logout failed', { client_id: clientId, err: (err as Error).message });
    }
  }

  async function notify(sessions: EndedSession[]) {
    const sends: Promise<void>[] = [];
    for (const session of sessions) {
      for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
        sends.push(send(clientId, session.accountId, authorization.sid));
      }
    }
    await Promise.all(sends);
  }

  return {
    async account(accountId, { reason, before, after }) {
      const ended = await db.transaction(async (trx) => {
        await before?.(trx);
        await signals.forGrants(trx, SESSION_REVOKED, [{ user_id: accountId, event: { initiating_entity: 'admin', reason_admin: { en: reason } } }]);
        const result = await revokeAccountSessions(trx, accountId);
        await after?.(trx);
        return result;
      });
      signals.nudge();
      void notify(ended.sessions);
      return ended;
    },
    notify,
  };
}
