import { importJWK, SignJWT, type JWK } from 'jose';
import type { Database } from '../db/connect.ts';
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

const BATCH = 50;
const MAX_BACKOFF_MS = 300_000;

/**
 * Push delivery (RFC 8935) of the outbox. A batch is claimed in one statement: due rows of enabled
 * streams, locked FOR UPDATE SKIP LOCKED and given a lease, so two instances never take the same row
 * and a row whose instance died is taken again once its lease ends (at least once; the receiver
 * de-duplicates by `jti`). Each row becomes a SET signed with Tessera's current key and is POSTed;
 * a 2xx marks it delivered, anything else schedules a retry with exponential backoff, and a stream
 * whose deliveries keep failing is paused with the reason in its status.
 */
export function startDelivery(deps: { db: Database; issuer: string; log: Logger; metrics: Metrics; settings: DeliverySettings }) {
  const { db, issuer, log, metrics, settings } = deps;
  let key: { at: number; alg: string; kid: string; privateKey: CryptoKey | Uint8Array } | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  async function signingKey() {
    if (!key || Date.now() - key.at > settings.keysRefreshS * 1000) {
      const jwk = (await loadSigningKeys(db))[0] as JWK & { kid: string; alg: string };
      key = { at: Date.now(), alg: jwk.alg, kid: jwk.kid, privateKey: await importJWK(jwk, jwk.alg) };
    }
    return key;
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
    try {
      const res = await fetch(row.endpoint_url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.timeoutMs),
        headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json', ...(row.authorization_header ? { authorization: row.authorization_header } : {}) },
        body: await sign(row),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? undefined : `receiver answered ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return e.name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
    }
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
    running = round()
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
