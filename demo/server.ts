/**
 * `npm run demo`: a relying party on http://localhost:8080 that signs in through Tessera (code flow
 * with PKCE via openid-client) and shows the ID token, access token and userinfo claims, with a
 * refresh button and an organization switch (a refresh with `organization=<alias>`).
 */
import http from 'node:http';
import { demoSettings, type DemoSettings } from './settings.ts';
import { relyingParty } from './relying-party.ts';
import { sessionStore, type DemoSession } from './sessions.ts';
import { demoPage } from './page.ts';

const loaded = demoSettings(process.env);
if (typeof loaded === 'string') {
  process.stderr.write(loaded + '\n');
  process.exit(2);
}
const settings: DemoSettings = loaded;
const rp = relyingParty(settings);
const sessions = sessionStore();

/** What went wrong, in one line: an OAuth error and its description, or the message. */
function describe(err: unknown): string {
  const e = err as { error?: string; error_description?: string; message?: string; cause?: { message?: string } };
  if (e.error) return `${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
  return `${e.message ?? String(err)}${e.cause?.message ? ` (${e.cause.message})` : ''}`;
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) break;
  }
  return new URLSearchParams(body);
}

async function showTokens(session: DemoSession, tokens: Awaited<ReturnType<typeof rp.refresh>>) {
  session.tokens = tokens;
  session.userinfo = await rp.userinfo(tokens);
  session.error = undefined;
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url ?? '/', settings.baseUrl);
  const session = sessions.of(req, res);
  const home = () => res.writeHead(303, { location: '/' }).end();
  try {
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(demoPage(settings, session));
    } else if (req.method === 'GET' && url.pathname === '/login') {
      const { url: to, pending } = await rp.signInUrl();
      session.pending = pending;
      res.writeHead(302, { location: to }).end();
    } else if (req.method === 'GET' && url.pathname === '/callback') {
      const pending = session.pending;
      session.pending = undefined;
      if (!pending) throw new Error('no sign-in under way in this browser: start again with "Sign in"');
      await showTokens(session, await rp.callback(url, pending));
      home();
    } else if (req.method === 'POST' && url.pathname === '/refresh') {
      const organization = (await readForm(req)).get('organization')?.trim() || undefined;
      if (!session.tokens?.refresh_token) throw new Error('no refresh token: sign in first');
      await showTokens(session, await rp.refresh(session.tokens.refresh_token, organization));
      home();
    } else if (req.method === 'POST' && url.pathname === '/logout') {
      Object.assign(session, { tokens: undefined, userinfo: undefined, error: undefined });
      home();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  } catch (err) {
    session.error = describe(err);
    if (!res.headersSent) home();
  }
}

http
  .createServer((req, res) => void handle(req, res))
  .listen(settings.port, () => process.stdout.write(`demo app on ${settings.baseUrl} (issuer ${settings.issuer}, client ${settings.clientId})\n`))
  .on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(err.code === 'EADDRINUSE' ? `port ${settings.port} is in use: set DEMO_PORT to another\n` : `${err.message}\n`);
    process.exit(1);
  });
