import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadSettings, type Settings } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

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
 * PGlite folder. The issuer is the loopback address with a port chosen here.
 */
export async function testEnv(extra: Record<string, string> = {}): Promise<{ env: Record<string, string>; cleanup: () => void }> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-test-'));
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://localhost:${port}`,
    TESSERA_PASSWORD_COST: '10',
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

export type TestServer = RunningServer & { issuer: string; settings: Settings; logs: string[]; stop(): Promise<void> };

/** Starts Tessera in this process on a real port; logs are captured for assertions. */
export async function startTestServer(extra: Record<string, string> = {}): Promise<TestServer> {
  const { env, cleanup } = await testEnv(extra);
  const settings = loadSettings(env);
  const logs: string[] = [];
  const log = createLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'info', {}, (line) => logs.push(line));
  const server = await startServer(settings, log, (text) => logs.push(text));
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
