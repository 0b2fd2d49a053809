import { classifyRedirectUri } from './redirect-uri.ts';

/**
 * A page or image people open from the sign-in pages (an application's logo_uri, client_uri,
 * policy_uri, tos_uri; the brand logo): https, or http on this machine only, by the same rule as
 * redirect URIs. No other scheme (javascript:, data:...), no fragment, no user or password in it.
 */
export function webPageUriProblem(uri: string): string | undefined {
  const c = classifyRedirectUri(uri);
  if (!c.ok) return c.message;
  if (c.kind === 'private-use') return 'must be an https URL (http only on loopback or localhost)';
  const url = new URL(uri);
  if (url.username || url.password) return 'must not contain a user name or password';
  return undefined;
}
