import { html, page, SafeHtml } from './html.ts';

/** Every interaction page lets the person refuse: the app then gets access_denied. */
function abortForm(uid: string, csrf: string, label: string): SafeHtml {
  return html`<form method="post" action="/interaction/${uid}/abort">
  <input type="hidden" name="csrf" value="${csrf}">
  <button type="submit" class="secondary">${label}</button>
</form>`;
}

export type LoginView = { uid: string; csrf: string; clientName: string; username?: string; error?: string };

export function loginPage(v: LoginView): string {
  return page(
    'Sign in',
    html`<h1>Sign in</h1>
<p class="lead">to continue to <strong>${v.clientName}</strong></p>
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<form method="post" action="/interaction/${v.uid}/login" autocomplete="on">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" autocomplete="username" required autofocus value="${v.username ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
${abortForm(v.uid, v.csrf, 'Cancel')}`,
  );
}

export type ConsentView = { uid: string; csrf: string; clientName: string; scopes: string[]; resources: string[] };

export function consentPage(v: ConsentView): string {
  return page(
    'Allow access',
    html`<h1>Allow access?</h1>
<p class="lead"><strong>${v.clientName}</strong> asks for:</p>
<ul class="scopes">${v.scopes.map((s) => html`<li><code>${s}</code></li>`)}</ul>
${v.resources.length ? html`<p>for use with</p><ul class="scopes">${v.resources.map((r) => html`<li><code>${r}</code></li>`)}</ul>` : ''}
<form method="post" action="/interaction/${v.uid}/confirm">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <button type="submit">Allow</button>
</form>
${abortForm(v.uid, v.csrf, 'Deny')}`,
  );
}

export type OrganizationView = { uid: string; csrf: string; clientName: string; choices: Array<{ alias: string; name: string; roles: string[] }> };

export function organizationPage(v: OrganizationView): string {
  return page(
    'Choose an organization',
    html`<h1>Choose an organization</h1>
<p class="lead">Which organization do you want to use with <strong>${v.clientName}</strong>?</p>
<form method="post" action="/interaction/${v.uid}/organization">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <fieldset>
    <legend>Organizations</legend>
    ${v.choices.map(
      (c, i) => html`<div class="choice"><input type="radio" id="org-${c.alias}" name="organization" value="${c.alias}" ${i === 0 ? 'checked' : ''} required>
    <label for="org-${c.alias}">${c.name}${c.roles.length ? html` <span class="roles">(${c.roles.join(', ')})</span>` : ''}</label></div>`,
    )}
  </fieldset>
  <button type="submit">Continue</button>
</form>
${abortForm(v.uid, v.csrf, 'Cancel')}`,
  );
}

export function errorPage(title: string, message: string, details: Record<string, string> = {}): string {
  return page(
    title,
    html`<h1>${title}</h1>
<p role="alert">${message}</p>
${Object.keys(details).length ? html`<dl>${Object.entries(details).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>` : ''}`,
  );
}

export function logoutPage(form: string, clientName?: string): string {
  return page(
    'Sign out',
    html`<h1>Sign out?</h1>
<p class="lead">${clientName ? html`<strong>${clientName}</strong> asks to sign you out.` : 'Do you want to sign out?'}</p>
${new SafeHtml(form)}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
  );
}

export function loggedOutPage(clientName?: string): string {
  return page('Signed out', html`<h1>Signed out</h1><p>You have been signed out${clientName ? html` of ${clientName}` : ''}.</p>`);
}

export const stylesheet = `
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f3f4f6;color:#111827;margin:0;padding:2rem 1rem}
.card{max-width:24rem;margin:0 auto;background:#fff;border-radius:.5rem;padding:1.5rem 2rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin:0 0 .5rem}.lead{color:#374151}label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{width:100%;padding:.5rem;border:1px solid #9ca3af;border-radius:.25rem;font-size:1rem}
input:focus,button:focus{outline:3px solid #2563eb;outline-offset:1px}
button{width:100%;margin-top:1rem;padding:.6rem;border:0;border-radius:.25rem;background:#1d4ed8;color:#fff;font-size:1rem;cursor:pointer}
button.secondary{background:#e5e7eb;color:#111827;margin-top:.5rem}.error{background:#fee2e2;color:#991b1b;padding:.5rem;border-radius:.25rem}
ul.scopes{padding-left:1.2rem}fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:600}.choice{display:flex;gap:.5rem;align-items:center;margin:.4rem 0}.choice label{margin:0;font-weight:400}.roles{color:#4b5563}dt{font-weight:600}dd{margin:0 0 .5rem}
`;
