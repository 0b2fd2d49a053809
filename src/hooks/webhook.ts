/**
 * Calls a webhook hook (SPEC 5): one signed POST, no retries, no redirects, a deadline covering the
 * whole exchange (connect, headers and body), and a body limit enforced while the body streams.
 */
import got, { type Request } from 'got';
import type { IncomingMessage } from 'node:http';
import type { WebhookHookConfig } from './config.ts';
import type { HookInput } from './input.ts';
import { SIGNATURE_HEADER, signWebhook } from './signature.ts';
import { failed, toClaims, type CallResult } from './result.ts';
import { hookUrlProblem, type AddressPolicy } from './address-policy.ts';
import { ADDRESS_REFUSED } from './hook-lookup.ts';
import type { LookupFunction } from 'node:net';

export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * The options every call shares, merged once: got merges and validates each call's options against
 * its defaults, which had cost more than the loopback exchange itself. got sets no deadline of its
 * own here: callWebhook's deadline covers the whole exchange and destroys the request.
 */
const client = got.extend({
  headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'tessera-payload-hook' },
  retry: { limit: 0 },
  followRedirect: false,
  throwHttpErrors: false,
  cache: false,
});

export type WebhookCallOptions = {
  /** Unix seconds for the signature's timestamp. */
  nowSeconds: number;
  maxResponseBytes?: number;
  /**
   * For a client's hook: where it may connect. The URL is checked before the call (an IP address
   * in it never goes through DNS) and `lookup` checks what its name resolves to at connection time.
   */
  guard?: { policy: AddressPolicy; lookup: LookupFunction };
};

/** The failure cause for a transport error (the URL, headers and secret are never part of it). */
function transportCause(err: unknown): CallResult {
  const e = err as { code?: string; name?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (e?.name === 'TimeoutError' || code === 'ETIMEDOUT') return failed('timeout');
  if (code === ADDRESS_REFUSED) return failed('address_refused');
  if (code === 'ECONNREFUSED') return failed('connection_refused');
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') return failed('connection_reset', code);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return failed('dns_error', code);
  if (code && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))) return failed('tls_error', code);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return failed('unreachable', code);
  return failed('network_error', code ?? e?.name);
}

/** POSTs the input to the hook and reads its answer. Never throws. */
export function callWebhook(config: Pick<WebhookHookConfig, 'url' | 'secret' | 'timeout_ms'>, input: HookInput, options: WebhookCallOptions): Promise<CallResult> {
  const limit = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const body = JSON.stringify(input);
  // Refused before any connection: nothing reaches the address, so its answer (or silence) cannot be probed.
  if (options.guard && hookUrlProblem(config.url, options.guard.policy)) return Promise.resolve(failed('address_refused'));
  return new Promise<CallResult>((resolve) => {
    let request: Request | undefined;
    let settled = false;
    // A response read to its end leaves its connection to the agent's keep-alive pool: the next call
    // skips the TCP handshake (which cost the hook about as much as the call itself). Anything cut
    // short is destroyed with its connection.
    let ended = false;
    const finish = (result: CallResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (!ended) request?.destroy();
      resolve(result);
    };
    // The deadline over the whole exchange (connect, headers, a slow or endless body).
    const deadline = setTimeout(() => finish(failed('timeout')), config.timeout_ms);

    try {
      request = client.stream.post(config.url, {
        body,
        headers: { [SIGNATURE_HEADER]: signWebhook(config.secret, body, options.nowSeconds) },
        ...(options.guard ? { dnsLookup: options.guard.lookup } : {}),
      });
    } catch (err) {
      finish(transportCause(err));
      return;
    }

    let status = 0;
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('response', (response: IncomingMessage) => {
      status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) return finish(failed('redirect', String(status)));
      if (status === 204) return; // answered at the end of its (empty) body
      if (status !== 200) return finish(failed(`status_${status}`));
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) return finish(failed('body_too_large', `content-length ${declared}`));
    });
    request.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) return finish(failed('body_too_large', `over ${limit} bytes`));
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (settled) return;
      ended = true;
      if (status === 204) return finish({ ok: true, claims: undefined });
      if (status !== 200) return finish(failed(status ? `status_${status}` : 'network_error'));
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return finish(failed('invalid_json'));
      }
      // JSON null is an answer that is not an object: a webhook says "nothing" with 204.
      if (parsed === null) return finish(failed('not_an_object', 'null'));
      finish(toClaims(parsed));
    });
    request.on('error', (err: unknown) => finish(transportCause(err)));
  });
}
