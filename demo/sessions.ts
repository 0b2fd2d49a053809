import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { PendingSignIn, Tokens } from './relying-party.ts';
import type * as oidc from 'openid-client';

/** What the demo remembers per browser, in memory: a sign-in under way, the last tokens, the last error. */
export type DemoSession = { pending?: PendingSignIn; tokens?: Tokens; userinfo?: oidc.UserInfoResponse; error?: string };

const COOKIE = 'demo_session';

export function sessionStore() {
  const sessions = new Map<string, DemoSession>();
  return {
    /** The browser's session, created (with its cookie set on `res`) when it has none. */
    of(req: http.IncomingMessage, res: http.ServerResponse): DemoSession {
      const id = /(?:^|;\s*)demo_session=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
      const found = id ? sessions.get(id) : undefined;
      if (found) return found;
      const fresh: DemoSession = {};
      const newId = randomBytes(18).toString('base64url');
      sessions.set(newId, fresh);
      res.setHeader('set-cookie', `${COOKIE}=${newId}; HttpOnly; SameSite=Lax; Path=/`);
      return fresh;
    },
  };
}
