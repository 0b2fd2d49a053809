/**
 * An example payload hook webhook (SPEC 5): verifies Tessera's signature, then answers claims.
 *
 *   PORT=4000 TESSERA_PAYLOAD_HOOK_SECRET=... npx tsx hooks/example-webhook-receiver.ts
 *
 * and point Tessera at it:
 *
 *   TESSERA_PAYLOAD_HOOK_URL=http://localhost:4000/payload TESSERA_PAYLOAD_HOOK_SECRET=...
 *
 * Every request must carry `tessera-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`
 * with a timestamp within 5 minutes of this server's clock (older ones are replays): anything else
 * gets 401. The answer is 200 with a JSON object (its members become claims) or 204 (no claims).
 * The claims come from the example module, so both kinds of hook answer the same.
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { verifyWebhookSignature, SIGNATURE_HEADER } from '../src/hooks/signature.ts';
import type { HookInput } from '../src/hooks/input.ts';
import examplePayload from './example-payload.ts';

const MAX_BODY_BYTES = 1024 * 1024;
const TOLERANCE_SECONDS = 5 * 60;

export type Answer = (input: HookInput) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;

/** The receiver as a request handler: usable on its own server, or mounted in yours. */
export function createReceiver(secret: string, answer: Answer = examplePayload, log: (line: string) => void = () => {}): http.RequestListener {
  return (req, res) => {
    const reply = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/healthz') return reply(200, { ok: true });
    if (req.method !== 'POST') return reply(405, { error: 'method_not_allowed' });

    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', async () => {
      if (size > MAX_BODY_BYTES) return reply(413, { error: 'too_large' });
      // Verify the exact bytes received, before parsing anything.
      const raw = Buffer.concat(chunks);
      const verdict = verifyWebhookSignature(secret, req.headers[SIGNATURE_HEADER], raw, Date.now() / 1000, TOLERANCE_SECONDS);
      if (!verdict.ok) {
        log(`rejected: ${verdict.reason}`);
        return reply(401, { error: 'invalid_signature', reason: verdict.reason });
      }
      let input: HookInput;
      try {
        input = JSON.parse(raw.toString('utf8')) as HookInput;
      } catch {
        return reply(400, { error: 'invalid_json' });
      }
      try {
        const claims = await answer(input);
        log(`answered ${input.client_id} ${input.grant_type} (request ${input.request_id})`);
        return claims === undefined || claims === null ? reply(204) : reply(200, claims);
      } catch (err) {
        log(`failed: ${(err as Error).message}`);
        return reply(500, { error: 'internal_error' });
      }
    });
  };
}

// Run directly: `npx tsx hooks/example-webhook-receiver.ts`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secret = process.env.TESSERA_PAYLOAD_HOOK_SECRET ?? '';
  if (secret.length < 16) {
    process.stderr.write('set TESSERA_PAYLOAD_HOOK_SECRET (16+ characters, the same value Tessera uses)\n');
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 4000);
  const server = http.createServer(createReceiver(secret, examplePayload, (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`)));
  server.listen(port, process.env.HOST ?? '0.0.0.0', () => process.stdout.write(`example payload webhook listening on port ${port}\n`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
