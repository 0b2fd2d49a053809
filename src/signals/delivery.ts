import type dns from 'node:dns';
import got from 'got';
import { importJWK, SignJWT, type JWK } from 'jose';
import type { Database } from '../db/connect.ts';
import { hookUrlProblem, type AddressPolicy } from '../hooks/address-policy.ts';
import { ADDRESS_REFUSED, guardedLookup } from '../hooks/hook-lookup.ts';
import { BACKCHANNEL_LOGOUT } from './backchannel.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { loadSigningKeys } from '../storage/keys.ts';

export type DeliverySettings = {
  /** How often the outbox is looked at when nothing nudged the worker (ms). */
  pollMs: number;
  /** The first retry waits this long; each next one twice as long, up to 5 minutes (ms). */
  retryBaseMs: number;
  /** Failed deliveries in a row after which a stream is paused. */
  pauseAfter: number;
  /** How long a claimed row is this instance's to deliver before another may take it (s). */
  leaseS: number;
  /** Longest wait for a receiver's answer (ms). */
  timeoutMs: number;
  /** How long the signing key read from the database is reused (s): TESSERA_KEYS_REFRESH_S. */
  keysRefreshS: number;
};

type Claimed = {
  id: string;
  jti: string;
  stream_id: string;
  event_type: string;
  subject: Record<string, unknown>;
  event: Record<string, unknown>;
  created_at: Date;
  attempts: number;
  client_id: string;
  endpoint_url: string;
  authorization_header: string | null;
};

/** A logout token to send (backchannel_outbox), with what its client says now. */
type ClaimedLogout = {
  id: string;
  jti: string;
  client_id: string;
  sub: string;
  sid: string | null;
  attempts: number;
  created_at: Date;
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  id_token_signed_response_alg: string | null;
};

const BATCH = 50;
const MAX_BACKOFF_MS = 300_000;
/** A logout token that failed this many times is given up (about 13 minutes with the default backoff). */
export const LOGOUT_MAX_ATTEMPTS = 10;
/** How long a logout token is valid after it is signed (s); it is signed just before each attempt. */
const LOGOUT_TOKEN_TTL_S = 120;

/**
 * Push delivery (RFC 8935) of the outbox. A batch is claimed in one statement: due rows of enabled
 * streams, locked FOR UPDATE SKIP LOCKED and given a lease, so two instances never take the same row
 * and a row whose instance died is taken again once its lease ends (at least once; the receiver
 * de-duplicates by `jti`). Each row becomes a SET signed with Tessera's current key and is POSTed;
 * a 2xx marks it delivered, anything else schedules a retry with exponential backoff, and a stream
 * whose deliveries keep failing is paused with the reason in its status. Back-channel logout tokens
 * (backchannel_outbox) go the same way, beside the SETs: claimed, signed, POSTed, retried, and given
 * up after LOGOUT_MAX_ATTEMPTS. Every call checks the receiver's address with the webhook policy.
 */
export function startDelivery(deps: {
  db: Database;
  issuer: string;
  log: Logger;
  metrics: Metrics;
  settings: DeliverySettings;
  /** Where receivers and back-channel logout URIs may be reached (TESSERA_HOOK_ALLOWED_HOSTS), checked at each call. */
  addressPolicy: AddressPolicy;
  /** How names are resolved (tests); dns.lookup otherwise. */
  resolve?: typeof dns.lookup;
}) {
  const { db, issuer, log, metrics, settings, addressPolicy } = deps;
  // The options every call shares, merged once (got merges and validates each call's options against
  // its client's, which costs more than a loopback exchange when done in full per call).
  const client = got.extend({
    dnsLookup: guardedLookup(addressPolicy, deps.resolve),
    followRedirect: false,
    throwHttpErrors: false,
    retry: { limit: 0 },
    cache: false,
    timeout: { request: settings.timeoutMs },
    headers: { 'user-agent': 'tessera-signals' },
  });
  let keys: { at: number; list: Array<{ alg: string; kid: string; privateKey: CryptoKey | Uint8Array }> } | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  /** The current signing key of `alg` (the client's ID token algorithm), else the first (ES256). */
  async function signingKey(alg?: string | null) {
    if (!keys || Date.now() - keys.at > settings.keysRefreshS * 1000) {
      const jwks = (await loadSigningKeys(db)) as Array<JWK & { kid: string; alg: string }>;
      keys = { at: Date.now(), list: await Promise.all(jwks.map(async (jwk) => ({ alg: jwk.alg, kid: jwk.kid, privateKey: await importJWK(jwk, jwk.alg) }))) };
    }
    return (alg ? keys.list.find((k) => k.alg === alg) : undefined) ?? keys.list[0]!;
  }

  /**
   * POSTs to a receiver; answers undefined on success, else why not. The address is checked at call
   * time too, with the webhook policy (TESSERA_HOOK_ALLOWED_HOSTS): an IP in the URL before any
   * connection, a name against what it resolves to when connecting (a name that later resolves to a
   * private address is refused, DNS rebinding included). No redirects are followed.
   */
  async function post(url: string, headers: Record<string, string>, body: string, ok: (status: number) => boolean): Promise<string | undefined> {
    const problem = hookUrlProblem(url, addressPolicy);
    if (problem) return `address refused: ${problem}`;
    try {
      const res = await client.post(url, { body, headers });
      return ok(res.statusCode) ? undefined : `receiver answered ${res.statusCode}`;
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code === ADDRESS_REFUSED) return `address refused: ${new URL(url).hostname} resolves to an address that is not public (list it in TESSERA_HOOK_ALLOWED_HOSTS to allow it)`;
      if (e.name === 'TimeoutError') return `no answer within ${settings.timeoutMs} ms`;
      return `${e.message}${e.code ? ` (${e.code})` : ''}`;
    }
  }

  async function sign(row: Claimed): Promise<string> {
    const k = await signingKey();
    const subject = row.subject.format === 'iss_sub' ? { ...row.subject, iss: issuer } : row.subject;
    return new SignJWT({ sub_id: subject, events: { [row.event_type]: row.event } })
      .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'secevent+jwt' })
      .setIssuer(issuer)
      .setAudience(row.client_id)
      .setJti(row.jti)
      .setIssuedAt()
      .sign(k.privateKey);
  }

  async function claim(): Promise<Claimed[]> {
    const { rows } = (await db.raw(
      `with due as (
         select o.id from ssf_outbox o join ssf_streams s on s.stream_id = o.stream_id and s.status = 'enabled'
         where o.delivered_at is null and o.next_attempt_at <= now() and (o.leased_until is null or o.leased_until < now())
         order by o.id limit ${BATCH}
         for update of o skip locked
       ), claimed as (
         update ssf_outbox o set leased_until = now() + make_interval(secs => ?), attempts = o.attempts + 1
         from due where o.id = due.id
         returning o.id, o.jti, o.stream_id, o.event_type, o.subject, o.event, o.created_at, o.attempts
       )
       select c.*, s.client_id, s.endpoint_url, s.authorization_header
       from claimed c join ssf_streams s on s.stream_id = c.stream_id
       order by c.id`,
      [settings.leaseS],
    )) as { rows: Claimed[] };
    return rows.map((r) => ({ ...r, id: String(r.id), subject: parse(r.subject), event: parse(r.event), created_at: new Date(r.created_at) }));
  }

  async function push(row: Claimed): Promise<string | undefined> {
    const headers = { 'content-type': 'application/secevent+jwt', accept: 'application/json', ...(row.authorization_header ? { authorization: row.authorization_header } : {}) };
    return post(row.endpoint_url, headers, await sign(row), (status) => status >= 200 && status < 300);
  }

  async function delivered(row: Claimed) {
    await db('ssf_outbox').where({ id: row.id }).update({ delivered_at: db.fn.now(), leased_until: null, last_error: null });
    await db('ssf_streams').where({ stream_id: row.stream_id }).andWhere('failures', '>', 0).update({ failures: 0 });
    metrics.signalsDelivered.inc({ event: short(row.event_type) });
    metrics.signalsLag.observe((Date.now() - row.created_at.getTime()) / 1000);
  }

  async function failed(row: Claimed, error: string): Promise<boolean> {
    const wait = Math.min(settings.retryBaseMs * 2 ** Math.max(0, row.attempts - 1), MAX_BACKOFF_MS);
    await db('ssf_outbox').where({ id: row.id }).update({ leased_until: null, last_error: error, next_attempt_at: db.raw('now() + make_interval(secs => ?)', [wait / 1000]) });
    const [stream] = await db('ssf_streams')
      .where({ stream_id: row.stream_id })
      .update({
        failures: db.raw('failures + 1'),
        status: db.raw("case when failures + 1 >= ? and status = 'enabled' then 'paused' else status end", [settings.pauseAfter]),
        status_reason: db.raw("case when failures + 1 >= ? and status = 'enabled' then ? else status_reason end", [settings.pauseAfter, `paused by Tessera: ${settings.pauseAfter} deliveries failed in a row; last: ${error}`]),
      })
      .returning(['status', 'failures']);
    metrics.signalsFailed.inc({ event: short(row.event_type) });
    log.warn('signal delivery failed', { stream_id: row.stream_id, client_id: row.client_id, jti: row.jti, attempts: row.attempts, err: error, ...(stream?.status === 'paused' ? { stream_status: 'paused' } : {}) });
    return stream?.status !== 'enabled';
  }

  /** One stream's rows in order; after a failure the rest wait for the retry (and keep their order). */
  async function deliverStream(rows: Claimed[]) {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const error = await push(row);
      if (error === undefined) {
        await delivered(row);
        continue;
      }
      await failed(row, error);
      const rest = rows.slice(i + 1).map((r) => r.id);
      if (rest.length) await db('ssf_outbox').whereIn('id', rest).update({ leased_until: null, attempts: db.raw('attempts - 1'), next_attempt_at: db.raw('(select next_attempt_at from ssf_outbox where id = ?)', [row.id]) });
      return;
    }
  }

  // Back-channel logout (OpenID Connect Back-Channel Logout 1.0): rows of backchannel_outbox, claimed
  // like the SETs, each built into a logout token signed as the client's ID tokens are and POSTed
  // form-encoded to the client's backchannel_logout_uri as it is now.

  async function claimLogouts(): Promise<ClaimedLogout[]> {
    const { rows } = (await db.raw(
      `with due as (
         select id from backchannel_outbox
         where delivered_at is null and given_up_at is null and next_attempt_at <= now() and (leased_until is null or leased_until < now())
         order by id limit ${BATCH}
         for update skip locked
       ), claimed as (
         update backchannel_outbox b set leased_until = now() + make_interval(secs => ?), attempts = b.attempts + 1
         from due where b.id = due.id
         returning b.id, b.jti, b.client_id, b.sub, b.sid, b.attempts, b.created_at
       )
       select c.*, k.backchannel_logout_uri, k.backchannel_logout_session_required, k.id_token_signed_response_alg
       from claimed c join clients k on k.client_id = c.client_id
       order by c.id`,
      [settings.leaseS],
    )) as { rows: ClaimedLogout[] };
    return rows.map((r) => ({ ...r, id: String(r.id), created_at: new Date(r.created_at) }));
  }

  async function logoutToken(row: ClaimedLogout): Promise<string> {
    const k = await signingKey(row.id_token_signed_response_alg);
    const withSid = row.backchannel_logout_session_required && row.sid;
    return new SignJWT({ sub: row.sub, ...(withSid ? { sid: row.sid } : {}), events: { [BACKCHANNEL_LOGOUT]: {} } })
      .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'logout+jwt' })
      .setIssuer(issuer)
      .setAudience(row.client_id)
      .setJti(row.jti)
      .setIssuedAt()
      .setExpirationTime(`${LOGOUT_TOKEN_TTL_S}s`)
      .sign(k.privateKey);
  }

  async function deliverLogout(row: ClaimedLogout) {
    const event = short(BACKCHANNEL_LOGOUT);
    if (!row.backchannel_logout_uri) {
      await db('backchannel_outbox').where({ id: row.id }).update({ given_up_at: db.fn.now(), leased_until: null, last_error: 'the client no longer has a backchannel_logout_uri' });
      return;
    }
    // The RP answers 200 (or 204, as oidc-provider accepts) when it ended the session.
    const error = await post(row.backchannel_logout_uri, { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ logout_token: await logoutToken(row) }).toString(), (status) => status === 200 || status === 204);
    if (error === undefined) {
      await db('backchannel_outbox').where({ id: row.id }).update({ delivered_at: db.fn.now(), leased_until: null, last_error: null });
      metrics.signalsDelivered.inc({ event });
      metrics.signalsLag.observe((Date.now() - row.created_at.getTime()) / 1000);
      log.info('backchannel logout sent', { client_id: row.client_id, jti: row.jti, attempts: row.attempts });
      return;
    }
    const giveUp = row.attempts >= LOGOUT_MAX_ATTEMPTS;
    const wait = Math.min(settings.retryBaseMs * 2 ** Math.max(0, row.attempts - 1), MAX_BACKOFF_MS);
    await db('backchannel_outbox')
      .where({ id: row.id })
      .update({ leased_until: null, last_error: error, ...(giveUp ? { given_up_at: db.fn.now() } : { next_attempt_at: db.raw('now() + make_interval(secs => ?)', [wait / 1000]) }) });
    metrics.signalsFailed.inc({ event });
    log.warn(giveUp ? 'backchannel logout given up' : 'backchannel logout failed', { client_id: row.client_id, jti: row.jti, attempts: row.attempts, err: error });
  }

  async function logoutRound() {
    for (;;) {
      const rows = await claimLogouts();
      if (!rows.length) return;
      await Promise.all(rows.map(deliverLogout));
      if (rows.length < BATCH || stopped) return;
    }
  }

  async function round() {
    for (;;) {
      const rows = await claim();
      if (!rows.length) return;
      const byStream = new Map<string, Claimed[]>();
      for (const r of rows) byStream.set(r.stream_id, [...(byStream.get(r.stream_id) ?? []), r]);
      await Promise.all([...byStream.values()].map(deliverStream));
      if (rows.length < BATCH || stopped) return;
    }
  }

  function run() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = Promise.all([
      round().catch((err) => log.warn('signal delivery round failed', { err: (err as Error).message })),
      logoutRound().catch((err) => log.warn('backchannel logout round failed', { err: (err as Error).message })),
    ])
      .then(() => undefined)
      .catch((err) => log.warn('signal delivery round failed', { err: (err as Error).message }))
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          run();
        }
      });
  }

  timer = setInterval(run, settings.pollMs).unref();
  run();
  return {
    /** Something was committed to the outbox: look now rather than at the next poll. */
    nudge: run,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
const short = (type: string) => type.slice(type.lastIndexOf('/') + 1);
