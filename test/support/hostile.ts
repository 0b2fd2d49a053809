/**
 * Tools for hostile-input tests: a fingerprint of every table, requests that count a hang as a
 * failure, and fast-check arbitraries for the strings and bodies an attacker sends.
 */
import net from 'node:net';
import fc from 'fast-check';
import type { Database } from '../../src/db/connect.ts';

/** One fixed seed, so a failure replays; FC_SEED=<n> runs another. fast-check prints it on failure. */
export const SEED = Number(process.env.FC_SEED ?? 20261123);

/**
 * The delivery workers' own bookkeeping on the outboxes: it changes on the workers' schedule (a
 * retry, a give-up) whatever request a test is sending, so it is left out of the digest; which
 * events are queued is not.
 */
const DELIVERY_STATE: Record<string, string[]> = {
  backchannel_outbox: ['attempts', 'next_attempt_at', 'leased_until', 'delivered_at', 'given_up_at', 'last_error'],
  ssf_outbox: ['attempts', 'next_attempt_at', 'leased_until', 'delivered_at', 'last_error'],
};

/** A digest of every row of every table but `except` (and the outboxes' delivery state), in one query. */
export async function fingerprintAll(db: Database, except: string[] = []): Promise<string> {
  const tables = ((await db.raw("select table_name as t from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1")).rows as Array<{ t: string }>)
    .map((r) => r.t)
    .filter((t) => !except.includes(t));
  const row = (t: string) => (DELIVERY_STATE[t] ? `(to_jsonb(x) - array[${DELIVERY_STATE[t].map((c) => `'${c}'`).join(', ')}])::text` : 'x::text');
  const parts = tables.map((t) => `(select md5(coalesce(string_agg(${row(t)}, ',' order by ${row(t)}), '')) from "${t}" x)`);
  return (await db.raw(`select concat_ws(':', ${parts.join(', ')}) as h`)).rows[0].h as string;
}

/** `status` 0: the server closed the connection while the client was still sending (see `send`). */
export type Answer = { status: number; body: string; headers: Headers };

/**
 * A request that must be answered within `ms`: a hang fails the test instead of stalling it.
 * With `allowReset`, a connection the server closed mid-upload (how Node refuses to read the rest
 * of an oversized body it already answered) is status 0 rather than an error.
 */
export async function send(url: string, init: RequestInit = {}, ms = 10_000, allowReset = false): Promise<Answer> {
  try {
    const res = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(ms) });
    return { status: res.status, body: await res.text(), headers: res.headers };
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new Error(`no answer within ${ms} ms: ${init.method ?? 'GET'} ${url.slice(0, 200)}`);
    const code = ((err as Error).cause as { code?: string } | undefined)?.code ?? '';
    if (allowReset && ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(code)) return { status: 0, body: '', headers: new Headers() };
    throw err;
  }
}

/** Strings as attackers write them: unicode of every plane, control characters, very long, or nearly valid. */
export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udfff', 'a', '%', '\u202e', '𝔘'), minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\u0000', '%00', '\ud800', '\u202e', '../../etc/passwd', "' or 1=1 --", '<script>alert(1)</script>', '{"a":1}', 'null', '-1', '1e309', '\r\nx-injected: 1') },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'é', '𝔘', '\u0000', '%'), fc.integer({ min: 1_000, max: 20_000 })).map(([c, n]) => c.repeat(n)) },
);

/** Content types a client might send instead of the one expected. */
export const contentType = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-16',
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
  'x/\u00e9',
);

/** JSON nested `depth` levels deep, built iteratively. */
export const deepJson = (depth: number, open = '{"a":', close = '}') => `${open.repeat(depth)}1${close.repeat(depth)}`;

/** A form body from chosen field names (and random ones) with hostile values; sometimes a field twice. */
export function formBody(fields: string[], values: fc.Arbitrary<string> = hostileString, maxLength = 8) {
  return fc
    .array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: hostileString }), values), { maxLength })
    .map((pairs) => {
      const p = new URLSearchParams();
      for (const [k, v] of pairs) p.append(k, v);
      return p.toString();
    });
}

/**
 * Uploads `bytes` of form data to `path` over a raw socket, chunked or with a declared length, and
 * returns the status line's code as soon as the server answers (0 when it closes without one),
 * with how many bytes the socket had accepted by then: a server that stops reading is seen doing
 * so (the socket's buffers fill and the upload stalls). Bounded by `ms`.
 */
export function upload(issuer: string, path: string, options: { bytes: number; chunked: boolean; headers?: Record<string, string>; ms?: number }): Promise<{ status: number; sent: number }> {
  const { hostname, port } = new URL(issuer);
  const ms = options.ms ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname);
    let received = '';
    let done = false;
    let sent = 0;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, sent });
    };
    const timer = setTimeout(() => {
      done = true;
      socket.destroy();
      reject(new Error(`no answer within ${ms} ms to a ${options.bytes}-byte upload to ${path}`));
    }, ms);
    socket.on('error', () => finish(0));
    socket.on('close', () => finish(0));
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      const line = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (line) finish(Number(line[1]));
    });
    socket.on('connect', () => {
      const head = [`POST ${path} HTTP/1.1`, `host: ${hostname}:${port}`, 'content-type: application/x-www-form-urlencoded', options.chunked ? 'transfer-encoding: chunked' : `content-length: ${options.bytes}`, ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      const piece = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!done && sent < options.bytes) {
          const n = Math.min(piece.length, options.bytes - sent);
          sent += n;
          const data = options.chunked ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), piece.subarray(0, n), Buffer.from('\r\n')]) : piece.subarray(0, n);
          if (!socket.write(data)) return void socket.once('drain', pump);
        }
        if (!done && options.chunked) socket.write('0\r\n\r\n');
      };
      pump();
    });
  });
}
