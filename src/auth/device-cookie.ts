import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { usernameKey } from '../model/username.ts';

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
 * signed in as a user gets a cookie, signed by Tessera, naming that user. Its sign-in attempts for that
 * user are counted per device rather than per username, so strangers guessing the password from other
 * addresses cannot lock the owner out; guessing stays bounded per device and per username elsewhere.
 * One cookie per user (its name derived from the username key, which stays out of the cookie in clear).
 */
const MAX_AGE_S = 180 * 86_400;
const PATH = '/interaction';

export type DeviceCookies = {
  /** The device id of this browser's valid cookie for `username`, or undefined. */
  read(ctx: Context, username: string): string | undefined;
  /** After a successful sign-in: (re)issues the cookie for `username`. */
  issue(ctx: Context, username: string): void;
};

export function deviceCookies(secret: string, now: () => number = Date.now): DeviceCookies {
  const key = createHmac('sha256', secret).update('tessera device cookie').digest();
  const nameFor = (user: string) => `tessera.device.${createHash('sha256').update(user).digest('base64url').slice(0, 16)}`;
  const mac = (user: string, issuedS: string, id: string) => createHmac('sha256', key).update(`${user}\0${issuedS}\0${id}`).digest('base64url');
  return {
    read(ctx, username) {
      const user = usernameKey(username);
      const value = ctx.cookies.get(nameFor(user));
      const [issuedS, id, signature] = (value ?? '').split('.');
      if (!issuedS || !id || !signature) return undefined;
      const expected = Buffer.from(mac(user, issuedS, id));
      const actual = Buffer.from(signature);
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
      if (!(now() / 1000 - Number(issuedS) < MAX_AGE_S)) return undefined;
      return id;
    },
    issue(ctx, username) {
      const user = usernameKey(username);
      const issuedS = String(Math.floor(now() / 1000));
      const id = randomBytes(16).toString('base64url');
      ctx.cookies.set(nameFor(user), `${issuedS}.${id}.${mac(user, issuedS, id)}`, {
        path: PATH,
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.secure,
        maxAge: MAX_AGE_S * 1000,
        overwrite: true,
      });
    },
  };
}
