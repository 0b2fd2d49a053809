/**
 * The demo app's settings, from the same variables the README's snippets set: CLIENT_ID and
 * CLIENT_SECRET (printed by `tessera client add --output env`), ISSUER and PORT as Tessera reads them.
 */
export type DemoSettings = { issuer: string; clientId: string; clientSecret: string | undefined; port: number; baseUrl: string; scope: string };

export const DEFAULT_SCOPE = 'openid profile email offline_access organization privileges hasura';

export function demoSettings(env: NodeJS.ProcessEnv): DemoSettings | string {
  const clientId = env.CLIENT_ID;
  if (!clientId) {
    return 'CLIENT_ID is not set: register the demo first with eval "$(npx tessera client add --name "Demo app" --redirect-uri http://localhost:8080/callback --scope "' + DEFAULT_SCOPE + '" --output env)" (see the README)';
  }
  const port = Number(env.DEMO_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `DEMO_PORT must be a port number (1 to 65535), not ${env.DEMO_PORT}`;
  return {
    issuer: env.ISSUER ?? `http://localhost:${env.PORT ?? 3000}`,
    clientId,
    clientSecret: env.CLIENT_SECRET || undefined,
    port,
    baseUrl: `http://localhost:${port}`,
    scope: DEFAULT_SCOPE,
  };
}
