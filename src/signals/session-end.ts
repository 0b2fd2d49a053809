import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { SESSION_REVOKED } from './events.ts';
import type { Signals } from './index.ts';

/**
 * RP-initiated logout (`/session/end`) happens inside oidc-provider, which revokes the session's
 * grants itself; once it succeeded, each client the session had signed in to (and whose stream
 * asked for it) hears CAEP session-revoked, initiated by the user.
 */
export function signalSessionEnd(provider: Provider, db: Database, signals: Signals, log: Logger): void {
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session;
    const accountId = session?.accountId;
    if (!accountId) return;
    // "Sign out of everything" ends the whole session; otherwise only the asking client's part of it.
    const everything = Boolean((ctx.oidc.params as { logout?: string } | undefined)?.logout);
    const clients = new Set(everything ? Object.keys(session.authorizations ?? {}) : []);
    if (ctx.oidc.client) clients.add(ctx.oidc.client.clientId);
    const event = { initiating_entity: 'user', reason_user: { en: 'signed out' } };
    db.transaction((trx) => signals.forClients(trx, SESSION_REVOKED, accountId, [...clients], event))
      .then(() => signals.nudge())
      .catch((err) => log.warn('session-revoked event not recorded', { err: (err as Error).message }));
  });
}
