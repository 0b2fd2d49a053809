/**
 * What a redirect URI (or an origin) is, by the rules of OAuth for browser and native apps:
 * https anywhere; http only on this machine (RFC 8252 §7.3 loopback, or `localhost` for web apps
 * in development); a private-use scheme for native apps (RFC 8252 §7.1). Fragments are never allowed
 * (RFC 6749 §3.1.2), and schemes that run or read content in place are refused by name.
 */
export type RedirectKind = 'https' | 'loopback' | 'localhost' | 'private-use';

export const LOOPBACK_IPS = new Set(['127.0.0.1', '[::1]']);
const REFUSED_SCHEMES = new Set(['javascript:', 'vbscript:', 'data:', 'blob:', 'file:', 'about:', 'ftp:', 'ws:', 'wss:', 'mailto:', 'tel:']);
// RFC 8252 §7.1: a reverse domain name the app's publisher controls, such as `com.example.app`.
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

export type Classified = { ok: true; kind: RedirectKind } | { ok: false; message: string };

export function classifyRedirectUri(uri: string): Classified {
  const url = URL.parse(uri);
  if (!url) return { ok: false, message: 'not an absolute URI' };
  if (uri.includes('#')) return { ok: false, message: 'must not contain a fragment' };
  if (REFUSED_SCHEMES.has(url.protocol)) return { ok: false, message: `the ${url.protocol.slice(0, -1)} scheme is not allowed` };
  if (url.protocol === 'https:') return url.hostname ? { ok: true, kind: 'https' } : { ok: false, message: 'https needs a host' };
  if (url.protocol === 'http:') {
    if (LOOPBACK_IPS.has(url.hostname)) return { ok: true, kind: 'loopback' };
    if (url.hostname === 'localhost') return { ok: true, kind: 'localhost' };
    return { ok: false, message: 'http is only allowed on loopback (127.0.0.1, [::1]) or localhost; use https' };
  }
  if (PRIVATE_USE_SCHEME.test(url.protocol)) return { ok: true, kind: 'private-use' };
  return { ok: false, message: 'a private-use scheme must be a reverse domain name such as com.example.app (RFC 8252 §7.1)' };
}

/** Whether a URI fits an application type: native apps get loopback IPs, private-use schemes and claimed https; web apps get https and http on this machine. */
export function redirectUriProblem(uri: string, applicationType: 'web' | 'native'): string | undefined {
  const c = classifyRedirectUri(uri);
  if (!c.ok) return c.message;
  if (applicationType === 'web' && c.kind === 'private-use') return 'a private-use scheme is for native apps: set application_type to native';
  if (applicationType === 'native' && c.kind === 'localhost') return 'native apps use the loopback IP (http://127.0.0.1 or http://[::1]) rather than localhost (RFC 8252 §8.3)';
  if (applicationType === 'native' && c.kind === 'https') {
    const host = URL.parse(uri)!.hostname;
    if (LOOPBACK_IPS.has(host) || host === 'localhost') return 'a loopback redirect uses http (RFC 8252 §7.3); https is for claimed domains';
  }
  return undefined;
}

/** RFC 8252: a public client whose redirects all stay on the device (private-use scheme or loopback IP) is a native app. */
export function inferApplicationType(c: { token_endpoint_auth_method?: string; redirect_uris?: string[] }): 'web' | 'native' {
  const uris = c.redirect_uris ?? [];
  if (c.token_endpoint_auth_method !== 'none' || uris.length === 0) return 'web';
  return uris.every((u) => {
    const k = classifyRedirectUri(u);
    return k.ok && (k.kind === 'private-use' || k.kind === 'loopback');
  })
    ? 'native'
    : 'web';
}

/** A browser origin (`https://app.example`, or http on this machine), exactly as a browser sends it in `Origin`. */
export function originProblem(origin: string): string | undefined {
  const url = URL.parse(origin);
  if (!url || url.origin !== origin) return 'an origin is scheme://host[:port], without path or trailing slash';
  const c = classifyRedirectUri(origin);
  if (!c.ok) return c.message;
  if (c.kind === 'private-use') return 'an origin is https, or http on loopback or localhost';
  return undefined;
}
