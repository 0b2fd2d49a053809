import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { revokeAccountSessions, type EndedSession } from '../storage/oidc-adapter.ts';

/**
 * Signing a user out from outside a browser (admin logout, a disabled, deleted or re-passworded
 * user): the sessions, grants and tokens go in one statement, then each client of each ended
 * session that registered a `backchannel_logout_uri` gets a logout token (OpenID Connect
 * Back-Channel Logout 1.0), built and signed by oidc-provider exactly as at `/session/end`.
 * Sending happens after the answer, in the background: a slow RP never delays the admin API.
 */
export type SignOut = {
  /** Ends every session of the user; answers how many rows went. */
  account(accountId: string): Promise<{ revoked: number; sessions: EndedSession[] }>;
  /** Sends logout tokens for sessions already ended (by a transaction of the caller's, once committed). */
  notify(sessions: EndedSession[]): Promise<void>;
};

export function createSignOut(provider: Provider, db: Database, log: Logger): SignOut {
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
    async account(accountId) {
      const ended = await revokeAccountSessions(db, accountId);
      void notify(ended.sessions);
      return ended;
    },
    notify,
  };
}
