/**
 * A minimal user agent for the login pages: keeps cookies, follows redirects by hand and submits
 * forms as a browser would. The relying party side of every flow is openid-client; this only
 * plays the person at the keyboard.
 */
export class UserAgent {
  readonly cookies = new Map<string, string>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Follows redirects until a page answers or the location leaves `origin` (the app's callback). */
  async follow(url: string, origin: string, init: RequestInit = {}): Promise<{ url: string; res?: Response; body?: string }> {
    let current = url;
    let res = await this.request(current, init);
    for (let hops = 0; hops < 10; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: current, res, body: await res.text() };
      current = new URL(location, current).href;
      if (!current.startsWith(origin)) return { url: current };
      res = await this.request(current);
    }
    throw new Error('too many redirects');
  }

  /** Submits the first form whose opening tag matches `form`, with its hidden inputs plus `fields`. */
  async submit(pageUrl: string, body: string, form: RegExp, fields: Record<string, string>, origin: string) {
    const forms = body.match(/<form[^>]*>[\s\S]*?<\/form>/g) ?? [];
    const chosen = forms.find((f) => form.test(f.slice(0, f.indexOf('>') + 1)));
    if (!chosen) throw new Error(`no form matching ${form} on ${pageUrl}`);
    const action = chosen.match(/action="([^"]*)"/)?.[1] ?? pageUrl;
    const hidden = Object.fromEntries([...chosen.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    return this.follow(new URL(action.replace(/&amp;/g, '&'), pageUrl).href, origin, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...hidden, ...fields }).toString(),
    });
  }

}

/** Signs in and consents; returns where the provider finally sent the browser (the redirect_uri with a code). */
export async function signIn(authUrl: string, issuer: string, username: string, password: string, agent = new UserAgent()) {
  let step = await agent.follow(authUrl, issuer);
  if (step.body && /action="([^"]+\/login)"/.test(step.body)) {
    step = await agent.submit(step.url, step.body, /\/login"/, { username, password }, issuer);
  }
  if (step.body && /action="([^"]+\/confirm)"/.test(step.body)) {
    step = await agent.submit(step.url, step.body, /\/confirm"/, {}, issuer);
  }
  return { ...step, agent };
}

/** A browser whose requests reach Tessera through a trusted proxy (TESSERA_TRUST_PROXY) from `ip`. */
export class AgentFrom extends UserAgent {
  constructor(public ip: string) {
    super();
  }
  override request(url: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', this.ip);
    return super.request(url, { ...init, headers });
  }
}
