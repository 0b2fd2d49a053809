import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from './config.ts';
import type { Logger } from './log.ts';
import { connectDatabase, type Database } from './db/connect.ts';
import { migrateLatest } from './db/migrate.ts';
import { ensureProviderSecrets, loadSigningKeys } from './storage/keys.ts';
import { purgeExpired } from './storage/oidc-adapter.ts';
import { purgeLoginFailures } from './storage/login-failures.ts';
import { startEmbeddedAutovacuum } from './db/embedded-vacuum.ts';
import { ensureAdminClient } from './bootstrap.ts';
import { createProvider } from './oidc/provider.ts';
import { createSignOut } from './oidc/backchannel-logout.ts';
import { createSignals, purgeDeliveredSignals } from './signals/index.ts';
import { createApp } from './http/app.ts';
import { createMailer } from './signin/password-reset.ts';
import { brandFor } from './interactions/brand.ts';
import { createMetrics } from './metrics.ts';
import { createPasswords } from './auth/passwords.ts';
import { createHookRunner } from './hooks/runner.ts';
import { createTokenClaims } from './oidc/token-claims.ts';
import { registerKnownOrganizations } from './oidc/organization-scopes.ts';
import { watchSigningKeys } from './oidc/signing-key-refresh.ts';
import { closeGracefully } from './http/graceful-close.ts';
import { checkGlobalHook, describeHook } from './hooks/startup-check.ts';
import { printToStdout } from './print.ts';

export type RunningServer = { url: string; db: Database; close(): Promise<void> };

/**
 * The once-per-database work of a start: migrations, keys and cookie secrets, the bootstrap admin
 * client. Safe to run from several processes at once (advisory locks); TESSERA_WORKERS' primary runs
 * it alone before forking, so a generated admin secret is printed once.
 */
export async function prepareDatabase(db: Database, settings: Settings, log: Logger, print: (text: string) => void) {
  const applied = await migrateLatest(db);
  if (applied.length) log.info('migrations applied', { migrations: applied });
  const secrets = await ensureProviderSecrets(db);
  await ensureAdminClient(db, settings, log, print);
  return secrets;
}

/** Everything a start does, in order: database, schema, keys, bootstrap client, provider, HTTP. */
export async function startServer(
  settings: Settings,
  log: Logger,
  print: (text: string) => void = printToStdout,
  /** A server already listening (tests bind port 0 first, so the issuer can name the port it got). */
  listening?: http.Server,
): Promise<RunningServer> {
  await checkGlobalHook(settings.payloadHook, settings.hooksDir, log);
  const db = connectDatabase(settings.database, {
    poolMax: settings.dbPoolMax,
    timeoutMs: settings.dbTimeoutMs,
    statementTimeoutMs: settings.dbStatementTimeoutMs,
    preparedStatements: settings.dbPreparedStatements,
    onDataDirTightened: (paths) =>
      log.warn('the embedded database folder was readable by other users: made private (folders 0700, files 0600)', { data_dir: 'dataDir' in settings.database ? settings.database.dataDir : undefined, tightened: paths.length, examples: paths.slice(0, 5) }),
    onEmbeddedLost: (reason) => log.error('the embedded database stopped; it starts again at the next request', { reason }),
  });
  try {
    const { cookieKeys } = await prepareDatabase(db, settings, log, print);
    const signingKeys = await loadSigningKeys(db);
    const metrics = createMetrics();
    const hooks = createHookRunner({ hooksDir: settings.hooksDir, log, metrics, now: () => Date.now(), addressPolicy: settings.hookAddressPolicy });
    const tokenClaims = createTokenClaims({ db, log, metrics, hooks, globalHook: settings.payloadHook, maxTokenBytes: settings.maxTokenBytes });
    const brand = brandFor(settings.brand, settings.issuer);
    const provider = createProvider({ issuer: settings.issuer, db, log, signingKeys, cookieKeys, trustProxy: settings.trustProxy, tokenClaims, keysRefreshS: settings.keysRefreshS, brand, outboundPolicy: settings.hookAddressPolicy });
    await registerKnownOrganizations(provider, db);
    const transmitter = createSignals({ provider, db, log, metrics, addressPolicy: settings.hookAddressPolicy, delivery: { ...settings.signals, leaseS: 60, keysRefreshS: settings.keysRefreshS } });
    const signals = transmitter.signals;
    const app = createApp({ provider, db, log, metrics, hooks, globalHook: settings.payloadHook, hookAddressPolicy: settings.hookAddressPolicy, maxProfileBytes: settings.maxProfileBytes, signals, signalsHttp: transmitter.http, signOut: createSignOut(provider, db, signals), metricsToken: settings.metricsToken, csrfKey: cookieKeys[0]!, passwords: createPasswords(settings.passwords), loginLimits: settings.loginLimits, trustProxy: settings.trustProxy, brand, mailer: settings.mail ? createMailer(settings.mail) : undefined });

    const purge = async () => {
      try {
        const removed = (await purgeExpired(db)) + (await purgeLoginFailures(db, settings.loginLimits.windowS)) + (await purgeDeliveredSignals(db));
        if (removed) log.debug('expired rows purged', { removed });
      } catch (err) {
        log.warn('purge failed', { err: (err as Error).message });
      }
    };
    await purge();
    const timer = setInterval(purge, settings.purgeIntervalS * 1000).unref();
    const stopKeyWatch = watchSigningKeys(provider, db, log, settings.keysRefreshS);

    const server = listening ?? http.createServer();
    server.on('request', app.callback());
    server.headersTimeout = 20_000;
    server.requestTimeout = 30_000;
    if (!listening) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(settings.port, settings.host, resolve);
      });
    }
    const { port } = server.address() as AddressInfo;
    // At every log level but silent: the one line that says the start worked, and with what.
    log.notice('listening', {
      port,
      issuer: settings.issuer,
      database: 'url' in settings.database ? 'postgresql' : 'pglite',
      ...('dataDir' in settings.database ? { data_dir: settings.database.dataDir } : {}),
      payload_hook: describeHook(settings.payloadHook),
    });

    const stopAutovacuum = 'url' in settings.database ? async () => {} : startEmbeddedAutovacuum(db, log);

    return {
      url: `http://127.0.0.1:${port}`,
      db,
      async close() {
        clearInterval(timer);
        stopKeyWatch();
        await transmitter.stop();
        // Stop accepting, let in-flight requests finish (for at most the grace period), then close the pool.
        const { forced } = await closeGracefully(server, settings.shutdownGraceS * 1000);
        if (forced) log.warn('grace period over: remaining connections closed', { grace_s: settings.shutdownGraceS, connections: forced });
        log.info('http server closed');
        await stopAutovacuum();
        await db.destroy();
        log.info('database pool closed');
      },
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}
