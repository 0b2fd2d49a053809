import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../support/server.ts';
import { aClient, unique } from '../support/fixtures.ts';
import { createResourceServer } from '../../src/storage/resource-servers.ts';

/**
 * Python's authlib, PyJWT and requests from Debian (`.ci/run` installs them) as a relying party and
 * a resource server: discovery validated by authlib's metadata classes, client_credentials, a JWT
 * access token verified against /jwks, introspection and revocation. Debian's own interpreter,
 * whatever python3 comes first on PATH.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/resource_server.py', import.meta.url));
const has = async () => existsSync(PYTHON) && (await promisify(execFile)(PYTHON, ['-c', 'import authlib, jwt, requests']).then(() => true, () => false));
const skip = (await has()) ? false : `needs ${PYTHON} with python3-authlib, python3-jwt, python3-requests (apt-get install -y)`;

let server: TestServer;
before(async () => {
  if (!skip) server = await startTestServer();
});
after(async () => server?.stop());

test('authlib validates discovery; a client_credentials JWT verifies with PyJWT; introspection and revocation answer as RFC 7662 and 7009 say', { skip }, async () => {
  const rs = await createResourceServer(server.db, { identifier: `https://${unique('api')}.example.test`, audience: unique('orders'), scopes: ['read'] });
  const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], scope: 'read', allowed_resources: [rs.identifier] });
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, server.issuer, client.client_id, client.client_secret!, rs.identifier, rs.audience], {
    env: { ...process.env, AUTHLIB_INSECURE_TRANSPORT: '1' },
    timeout: 60_000,
  });
  const seen = JSON.parse(stdout);
  assert.equal(seen.discovery_valid, true);
  assert.equal(seen.token_scope, 'read');
  assert.equal(seen.jwt_header.typ, 'at+jwt');
  assert.equal(seen.jwt_header.alg, 'ES256');
  assert.equal(seen.jwt_claims.aud, rs.audience);
  assert.equal(seen.jwt_claims.client_id, client.client_id);
  assert.equal(seen.introspection_jwt.active, true);
  assert.equal(seen.introspection_jwt.aud, rs.audience);
  assert.equal(seen.introspection_before.active, true);
  assert.equal(seen.revocation_status, 200);
  assert.deepEqual(seen.introspection_after, { active: false });
});
