import { html, type SafeHtml } from '../src/interactions/html.ts';
import type { DemoSettings } from './settings.ts';
import type { DemoSession } from './sessions.ts';

/** A JWT's payload, decoded (not verified: openid-client verified the ID token; the API verifies access tokens). */
export function jwtClaims(token: string | undefined): Record<string, unknown> | undefined {
  const payload = token?.split('.')[1];
  if (!payload || token!.split('.').length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

type OrganizationClaim = Record<string, { name?: string; roles?: string[] }>;

function organizationLine(claims: Record<string, unknown> | undefined): SafeHtml {
  const orgs = claims?.organization as OrganizationClaim | undefined;
  if (!orgs || !Object.keys(orgs).length) return html`<p id="organization">No organization in the ID token.</p>`;
  const parts = Object.entries(orgs).map(([alias, o]) => `${o.name ?? alias} (${alias})${o.roles?.length ? `, as ${o.roles.join(', ')}` : ''}`);
  return html`<p id="organization">Organization: <strong>${parts.join('; ')}</strong></p>`;
}

/** The demo's only page: a sign-in button, or what the tokens say with refresh and organization switch buttons. */
export function demoPage(settings: DemoSettings, session: DemoSession): string {
  const tokens = session.tokens;
  const idClaims = tokens?.claims();
  const accessClaims = jwtClaims(tokens?.access_token);
  const body = tokens
    ? html`${organizationLine(idClaims as Record<string, unknown> | undefined)}
<form method="post" action="/refresh"><button type="submit">Refresh</button></form>
<form method="post" action="/refresh"><label>Switch to organization <input name="organization" placeholder="alias, such as beta" required></label> <button type="submit">Switch</button></form>
<form method="post" action="/logout"><button type="submit">Forget these tokens</button></form>
<h2>ID token claims</h2><pre id="id-token">${pretty(idClaims)}</pre>
<h2>Access token</h2><pre id="access-token">${accessClaims ? pretty(accessClaims) : 'opaque (no resource was asked for): userinfo below answers with it'}</pre>
<h2>Userinfo</h2><pre id="userinfo">${pretty(session.userinfo)}</pre>
<h2>Refresh token</h2><p>To try the refresh with curl (the README's organization switch), paste this line into the terminal where CLIENT_ID and CLIENT_SECRET are set. Refresh tokens are rotated at every use: once curl spends it, this page's next refresh is a replay, which revokes the grant; sign in again then.</p>
<pre id="refresh-token">${tokens.refresh_token ? `export REFRESH_TOKEN='${tokens.refresh_token}'` : '(none: the scope had no offline_access)'}</pre>`
    : html`<p>Sign in through Tessera at ${settings.issuer} as the client <code>${settings.clientId}</code> (code flow with PKCE).</p>
<p><a id="sign-in" href="/login">Sign in</a></p>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Tessera demo app</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.75rem;overflow-x:auto}form{display:inline-block;margin:0 .5rem .5rem 0}.error{color:#a00}</style></head>
<body><h1>Tessera demo app</h1>
${session.error ? html`<p class="error" id="error">${session.error}</p>` : ''}
${body}
</body></html>`.toString();
}
