import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestServer, type TestServer } from './support/server.ts';
import { adminRouter } from '../src/admin/router.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.stop());

const fetchDocument = async () => {
  const res = await fetch(`${server.issuer}/admin/v1/openapi.json`);
  assert.equal(res.status, 200);
  return (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
};

test('the OpenAPI document is valid OpenAPI 3.1 according to a real validator', async () => {
  const doc = await fetchDocument();
  assert.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc as never);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
});

test('every route of the admin API is in the document, and nothing else', async () => {
  const doc = await fetchDocument();
  const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
  // The router as the server builds it; its layers name every method and path it answers.
  const provider = { issuer: server.issuer } as unknown as Parameters<typeof adminRouter>[0]['provider'];
  const router = adminRouter({ provider, db: server.db, passwordCost: 10, hooks: { run: async () => ({ status: 'ok', claims: undefined, source: 'module', cached: false }) }, globalHook: undefined, hookAddressPolicy: server.settings.hookAddressPolicy, maxProfileBytes: server.settings.maxProfileBytes });
  const served = new Set(
    router.stack
      .map((l) => ({ methods: l.methods, path: String(l.path) }))
      .filter((l) => l.methods.length && !l.path.includes('{*rest}') && !l.path.endsWith('/openapi.json'))
      .flatMap((l) => l.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${l.path.replace('/admin/v1', '').replace(/:(\w+)/g, '{$1}')}`)),
  );
  assert.deepEqual([...served].filter((r) => !documented.has(r)), [], 'served but not documented');
  assert.deepEqual([...documented].filter((r) => !served.has(r)), [], 'documented but not served');
});

test('documented request bodies are the schemas the server checks: a documented example is accepted', async () => {
  const doc = (await fetchDocument()) as unknown as { components: { schemas: Record<string, { properties?: Record<string, unknown>; additionalProperties?: boolean }> } };
  const privileges = doc.components.schemas.PrivilegesInput!;
  assert.deepEqual(Object.keys(privileges.properties ?? {}).sort(), ['profile', 'scope']);
  assert.equal(privileges.additionalProperties, false, 'unknown members are refused, as the server does');
  assert.ok(doc.components.schemas.NewClient?.properties?.payload_hook, 'the client hook setting is described');
});
