/**
 * An example Shared Signals receiver (push, RFC 8935) for Tessera: it subscribes its own stream, then
 * verifies every Security Event Token against Tessera's /jwks and shows how an app reacts.
 *
 *   ISSUER=http://localhost:3000 CLIENT_ID=… CLIENT_SECRET=… PORT=4100 npx tsx examples/ssf-receiver.ts
 *
 * The client needs the `ssf` scope and the client_credentials grant; Tessera must be allowed to reach
 * this receiver's address (TESSERA_HOOK_ALLOWED_HOSTS=127.0.0.1 for a receiver on this machine).
 */
import http from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const ISSUER = process.env.ISSUER ?? 'http://localhost:3000';
const CLIENT_ID = process.env.CLIENT_ID ?? '';
const CLIENT_SECRET = process.env.CLIENT_SECRET ?? '';
const PORT = Number(process.env.PORT ?? 4100);
const SELF = process.env.RECEIVER_URL ?? `http://127.0.0.1:${PORT}/events`;
if (!CLIENT_ID || !CLIENT_SECRET) throw new Error('set CLIENT_ID and CLIENT_SECRET (a client with scope ssf)');

const config = await (await fetch(`${ISSUER}/.well-known/ssf-configuration`)).json();
const jwks = createRemoteJWKSet(new URL(config.jwks_uri));
const seen = new Set<string>(); // jti: a SET may arrive more than once (delivery is at least once)

/** What the app does with each event: here, it says so. A real app refreshes or drops tokens. */
function react(type: string, subject: { sub?: string }, event: Record<string, unknown>) {
  const name = type.slice(type.lastIndexOf('/') + 1);
  if (name === 'token-claims-change') console.log(`user ${subject.sub}: claims changed ${JSON.stringify(event.claims)}: refresh their tokens now`);
  else if (name === 'session-revoked') console.log(`user ${subject.sub}: signed out: drop their session and tokens`);
  else if (name === 'credential-change') console.log(`user ${subject.sub}: ${event.credential_type} ${event.change_type}`);
  else if (name === 'verification') console.log(`stream verified (state ${event.state})`);
  else console.log(`event ${type}`, event);
}

http
  .createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/events') return void res.writeHead(404).end();
      try {
        const { payload } = await jwtVerify(body, jwks, { issuer: ISSUER, audience: CLIENT_ID, typ: 'secevent+jwt' });
        res.writeHead(202).end();
        if (seen.has(payload.jti!)) return;
        seen.add(payload.jti!);
        for (const [type, event] of Object.entries(payload.events as Record<string, Record<string, unknown>>)) react(type, payload.sub_id as { sub?: string }, event);
      } catch (err) {
        // RFC 8935 section 2.3: a SET the receiver cannot accept is a 400 with an error code.
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ err: 'invalid_request', description: (err as Error).message }));
      }
    });
  })
  .listen(PORT, async () => {
    const token = await (
      await fetch(`${ISSUER}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'ssf' }),
      })
    ).json();
    const auth = { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' };
    const existing = (await (await fetch(config.configuration_endpoint, { headers: auth })).json()) as Array<{ stream_id: string }>;
    const events_requested = [
      'https://schemas.openid.net/secevent/caep/event-type/token-claims-change',
      'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
      'https://schemas.openid.net/secevent/caep/event-type/credential-change',
    ];
    const delivery = { method: 'urn:ietf:rfc:8935', endpoint_url: SELF };
    const stream = existing[0]
      ? await (await fetch(config.configuration_endpoint, { method: 'PUT', headers: auth, body: JSON.stringify({ stream_id: existing[0].stream_id, delivery, events_requested }) })).json()
      : await (await fetch(config.configuration_endpoint, { method: 'POST', headers: auth, body: JSON.stringify({ delivery, events_requested }) })).json();
    await fetch(config.verification_endpoint, { method: 'POST', headers: auth, body: JSON.stringify({ stream_id: stream.stream_id, state: String(Date.now()) }) });
    console.log(`receiving on ${SELF}, stream ${stream.stream_id}`);
  });
