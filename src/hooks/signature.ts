/**
 * The webhook signature (SPEC 5): `tessera-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * The timestamp is signed with the body, so a receiver checks origin and integrity, and rejects
 * replays by refusing timestamps outside a tolerance.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'tessera-signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

const hmac = (secret: string, timestamp: number, body: string | Uint8Array) =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');

/** The header value for `body` sent at `nowSeconds` (whole unix seconds). */
export function signWebhook(secret: string, body: string | Uint8Array, nowSeconds: number): string {
  const t = Math.floor(nowSeconds);
  return `t=${t},v1=${hmac(secret, t, body)}`;
}

export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: 'missing' | 'malformed' | 'timestamp_out_of_tolerance' | 'bad_signature' };

/**
 * Checks a `tessera-signature` header against the exact body bytes received. Several `v1=` entries
 * are accepted (any may match), unknown entries ignored; the comparison is constant-time.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | string[] | undefined | null,
  body: string | Uint8Array,
  nowSeconds: number,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  if (Array.isArray(header)) header = header.length === 1 ? header[0] : undefined;
  if (!header) return { ok: false, reason: 'missing' };
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, reason: 'malformed' };
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(v)) return { ok: false, reason: 'malformed' };
      t = Number(v);
    } else if (k === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(v)) return { ok: false, reason: 'malformed' };
      signatures.push(v.toLowerCase());
    }
  }
  if (t === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(Math.floor(nowSeconds) - t) > toleranceSeconds) return { ok: false, reason: 'timestamp_out_of_tolerance' };
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  let match = false;
  for (const s of signatures) match = timingSafeEqual(expected, Buffer.from(s, 'hex')) || match;
  return match ? { ok: true, timestamp: t } : { ok: false, reason: 'bad_signature' };
}
