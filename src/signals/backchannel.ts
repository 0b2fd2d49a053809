import type { Knex } from 'knex';
import type { EndedSession } from '../storage/oidc-adapter.ts';

/** The event a logout token carries (OpenID Connect Back-Channel Logout 1.0 section 2.4). */
export const BACKCHANNEL_LOGOUT = 'http://schemas.openid.net/event/backchannel-logout';

/** A logout token to send: to `client_id`, about `sub`, naming the session `sid` when there is one. */
export type LogoutNotice = { client_id: string; sub: string; sid?: string | undefined };

/** Each client of each ended session, with the session's sid for that client. */
export function noticesOf(sessions: EndedSession[]): LogoutNotice[] {
  const notices: LogoutNotice[] = [];
  for (const session of sessions) {
    for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
      notices.push({ client_id: clientId, sub: session.accountId, sid: authorization.sid });
    }
  }
  return notices;
}

/**
 * Records logout tokens to send, one row per notice whose client registered a
 * `backchannel_logout_uri` (others are skipped here, not at delivery). Run it in the transaction that
 * ends the sessions: the rows exist exactly when the sign-out does, and the delivery worker of a
 * running server builds, signs and POSTs each token. Answers how many rows were written.
 */
export async function recordLogouts(trx: Knex, notices: LogoutNotice[]): Promise<number> {
  if (!notices.length) return 0;
  const result = (await trx.raw(
    `insert into backchannel_outbox (jti, client_id, sub, sid)
     select gen_random_uuid()::text, c.client_id, n.sub, n.sid
     from jsonb_to_recordset(?::jsonb) as n(client_id text, sub text, sid text)
     join clients c on c.client_id = n.client_id and c.backchannel_logout_uri is not null
     returning id`,
    [JSON.stringify(notices.map((n) => ({ client_id: n.client_id, sub: n.sub, sid: n.sid ?? null })))],
  )) as { rows: unknown[] };
  return result.rows.length;
}

/** Delivered (or given-up) logout rows are kept a day, then deleted with the periodic purge. */
export async function purgeSentLogouts(db: Knex): Promise<number> {
  return db('backchannel_outbox')
    .where((q) => q.where('delivered_at', '<', db.raw("now() - interval '1 day'")).orWhere('given_up_at', '<', db.raw("now() - interval '1 day'")))
    .delete();
}
