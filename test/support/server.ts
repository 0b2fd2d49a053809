import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadSettings, type Settings } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { throwawayDatabase } from './database.ts';
import { initdbFolder } from './embedded-template.ts';

/**
 * A port free now, for a process that must be told its port before it starts (a `tessera start`
 * child, a PostgreSQL server): it is released before that process binds it, so in-process servers
 * listen on port 0 instead (startTestServer).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Environment for a test instance: PostgreSQL when TEST_DATABASE_URL is set (CI), else a fresh
 * PGlite folder (as initdb leaves it: embedded-template.ts). The issuer is the loopback address
 * with `port` (a free one when not given).
 */
export async function testEnv(extra: Record<string, string> = {}, port?: number): Promise<{ env: Record<string, string>; cleanup: () => void }> {
  port ??= await freePort();
  const dataDir = process.env.TEST_DATABASE_URL ? mkdtempSync(path.join(os.tmpdir(), 'tessera-test-')) : await initdbFolder();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://localhost:${port}`,
    TESSERA_LOG_LEVEL: 'silent',
    TESSERA_ADMIN_CLIENT_ID: 'test-admin',
    TESSERA_ADMIN_CLIENT_SECRET: 'test-admin-secret-0123456789',
    // The tests' webhook receivers listen on loopback, which a client's hook may not reach by default.
    TESSERA_HOOK_ALLOWED_HOSTS: '127.0.0.1',
    ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : { TESSERA_DATA_DIR: dataDir }),
    ...extra,
  };
  return { env, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/**
 * testEnv with a database of its own on PostgreSQL too (a PGlite folder always is the test's own),
 * for a test that changes what every instance on a database shares, such as the signing keys.
 */
export async function isolatedTestEnv(extra: Record<string, string> = {}): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const database = process.env.TEST_DATABASE_URL ? await throwawayDatabase(process.env.TEST_DATABASE_URL) : undefined;
  const { env, cleanup } = await testEnv({ ...(database ? { DATABASE_URL: database.url } : {}), ...extra });
  return {
    env,
    async cleanup() {
      cleanup();
      await database?.drop();
    },
  };
}

export type TestServer = RunningServer & { issuer: string; settings: Settings; logs: string[]; stop(): Promise<void> };

/** Starts Tessera in this process on a real port; logs are captured for assertions. */
export async function startTestServer(extra: Record<string, string> = {}): Promise<TestServer> {
  // Bound to port 0 before anything else, and kept: no other process can take the port between
  // choosing it and listening on it.
  const listening = http.createServer();
  await new Promise<void>((resolve, reject) => {
    listening.once('error', reject);
    listening.listen(0, '127.0.0.1', resolve);
  });
  const { port } = listening.address() as net.AddressInfo;
  const { env, cleanup } = await testEnv(extra, port);
  const settings = loadSettings(env);
  const logs: string[] = [];
  const log = createLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'info', {}, (line) => logs.push(line));
  let server: RunningServer;
  try {
    server = await startServer(settings, log, (text) => logs.push(text), listening);
  } catch (err) {
    listening.close();
    cleanup();
    throw err;
  }
  return {
    ...server,
    issuer: settings.issuer,
    settings,
    logs,
    async stop() {
      await server.close();
      cleanup();
    },
  };
}
