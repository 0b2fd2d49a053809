import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tokens that bind a form to what it acts on (an interaction, a browser session, a mailed link),
 * so a page of another site cannot post it: an HMAC under the cookie key of the purpose and the
 * parts, checked in constant time. One purpose per kind of form, so a token of one kind is never
 * accepted by another.
 */
export function formTokens(key: string, purpose: string) {
  const make = (...parts: string[]) => createHmac('sha256', key).update(`${purpose}:${parts.join(':')}`).digest('base64url');
  return {
    make,
    valid(sent: string | undefined, ...parts: string[]): boolean {
      const expected = Buffer.from(make(...parts));
      const actual = Buffer.from(sent ?? '');
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
