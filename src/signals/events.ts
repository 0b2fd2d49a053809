import type { Knex } from 'knex';
import { purgeSentLogouts } from './backchannel.ts';

/** CAEP 1.0 and SSF 1.0 event types Tessera transmits. */
export const TOKEN_CLAIMS_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/token-claims-change';
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

/** What a receiver may ask for (`events_supported`); verification events are always delivered on request. */
export const EVENTS_SUPPORTED = [TOKEN_CLAIMS_CHANGE, SESSION_REVOKED, CREDENTIAL_CHANGE] as const;

/** An event about one user: its members (without event_timestamp, added here). */
export type UserEvent = { user_id: string; event: Record<string, unknown> };

/** Grant scopes that release a claim: the grant's OpenID scope must match this (PostgreSQL regex). */
export const PRIVILEGES_GRANTS = '(^| )privileges( |$)';
export const organizationGrants = (...aliases: string[]) =>
  `(^| )organization(:\\*${aliases.map((a) => `|:${a.replace(/[^A-Za-z0-9_-]/g, (c) => `\\${c}`)}`).join('')})?( |$)`;

const now = () => Math.floor(Date.now() / 1000);

/**
 * Writes one outbox row per event and per stream that should hear it: a stream not disabled, that
 * asked for this type, whose client the user holds an unexpired grant with (and, with `grantScope`,
 * a grant whose scope releases the changed claims). Run it in the transaction of the change: the
 * events exist exactly when the change does. Answers how many rows were written.
 */
export async function enqueueForGrants(trx: Knex, type: string, items: UserEvent[], grantScope?: string): Promise<number> {
  if (!items.length) return 0;
  const at = now();
  const rows = items.map((i) => ({ user_id: i.user_id, event: { event_timestamp: at, ...i.event } }));
  const result = (await trx.raw(
    `insert into ssf_outbox (jti, stream_id, event_type, subject, event)
     select gen_random_uuid()::text, s.stream_id, ?, jsonb_build_object('format', 'iss_sub', 'sub', i.user_id), i.event
     from jsonb_to_recordset(?::jsonb) as i(user_id text, event jsonb)
     join ssf_streams s on s.status <> 'disabled' and s.events_requested @> to_jsonb(?::text)
     where not exists (select 1 from ssf_excluded_subjects x where x.stream_id = s.stream_id and x.user_id = i.user_id)
     and exists (
       select 1 from oidc_payloads g
       where g.payload->>'accountId' = i.user_id and g.model = 'Grant' and g.payload->>'clientId' = s.client_id
         and (g.expires_at is null or g.expires_at > now())
         and (?::text is null or coalesce(g.payload->'openid'->>'scope', '') ~ ?::text)
     )
     returning id`,
    [type, JSON.stringify(rows), type, grantScope ?? null, grantScope ?? null],
  )) as { rows: unknown[] };
  return result.rows.length;
}

/** One event about a user to the streams of the given clients (those that asked for it, not disabled). */
export async function enqueueForClients(trx: Knex, type: string, userId: string, clientIds: string[], event: Record<string, unknown>): Promise<number> {
  if (!clientIds.length) return 0;
  const result = (await trx.raw(
    `insert into ssf_outbox (jti, stream_id, event_type, subject, event)
     select gen_random_uuid()::text, s.stream_id, ?, jsonb_build_object('format', 'iss_sub', 'sub', ?::text), ?::jsonb
     from ssf_streams s
     where s.client_id in (select jsonb_array_elements_text(?::jsonb)) and s.status <> 'disabled' and s.events_requested @> to_jsonb(?::text)
       and not exists (select 1 from ssf_excluded_subjects x where x.stream_id = s.stream_id and x.user_id = ?::text)
     returning id`,
    [type, userId, JSON.stringify({ event_timestamp: now(), ...event }), JSON.stringify(clientIds), type, userId],
  )) as { rows: unknown[] };
  return result.rows.length;
}

/** A verification event (SSF 1.0 section 8.1.4) to one stream, whatever it asked for; its subject is the stream. */
export async function enqueueVerification(trx: Knex, streamId: string, state: string | undefined): Promise<void> {
  await trx('ssf_outbox').insert({
    jti: trx.raw('gen_random_uuid()::text'),
    stream_id: streamId,
    event_type: VERIFICATION,
    subject: JSON.stringify({ format: 'opaque', id: streamId }),
    event: JSON.stringify(state === undefined ? {} : { state }),
  });
}

/** Delivered events (and sent or given-up logout tokens) are kept a day (for looking into a receiver's complaint), then deleted with the periodic purge. */
export async function purgeDeliveredSignals(db: Knex): Promise<number> {
  return (await db('ssf_outbox').where('delivered_at', '<', db.raw("now() - interval '1 day'")).delete()) + (await purgeSentLogouts(db));
}
