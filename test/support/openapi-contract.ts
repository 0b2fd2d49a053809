/**
 * The admin API's OpenAPI document as a contract every admin test checks: each answer's status must
 * be one the document lists for that operation, with the documented media type, and its body must
 * match the documented schema; a request body the server accepted must match the documented request
 * schema. The document is the one the server serves, so a handler and its description cannot drift
 * apart without a test failing.
 */
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';

type Content = Record<string, { schema: Record<string, unknown> }>;
type OperationDoc = { operationId: string; requestBody?: { content: Content }; responses: Record<string, { content?: Content }> };
type Document = { paths: Record<string, Record<string, OperationDoc>>; components: Record<string, unknown> };

export type Exchange = { method: string; path: string; body?: unknown; status: number; contentType: string | null; json: unknown };

export type Contract = {
  /** Fails the test when the exchange breaks the document; returns the operation checked, if any. */
  check(exchange: Exchange): string | undefined;
};

export async function loadContract(issuer: string): Promise<Contract> {
  const res = await fetch(`${issuer}/admin/v1/openapi.json`);
  assert.equal(res.status, 200, 'the OpenAPI document is served');
  const doc = (await res.json()) as Document;
  // Formats are checked by the patterns zod writes next to them; validateFormats would need a plugin.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'tessera-admin', components: doc.components });
  const compiled = new Map<string, ValidateFunction>();
  const validator = (schema: Record<string, unknown>) => {
    const ref = String(schema.$ref ?? '');
    assert.ok(ref.startsWith('#/components/schemas/'), `documented schemas are named components (got ${JSON.stringify(schema)})`);
    let v = compiled.get(ref);
    if (!v) compiled.set(ref, (v = ajv.getSchema(`tessera-admin${ref}`)!));
    assert.ok(v, `schema ${ref} exists`);
    return v;
  };
  const routes = Object.entries(doc.paths).map(([template, ops]) => ({
    pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
    ops,
  }));

  return {
    check({ method, path, body, status, contentType, json }) {
      const bare = path.split('?')[0]!;
      const op = routes.find((r) => r.pattern.test(bare))?.ops[method.toLowerCase()];
      if (!op) return undefined; // not an operation of the document: the hostile tests' unknown routes
      const where = `${method} ${path} → ${status}`;
      const answer = op.responses[String(status)];
      assert.ok(answer, `${where}: status ${status} is not documented for ${op.operationId} (documented: ${Object.keys(op.responses).join(', ')})`);
      if (!answer.content) {
        assert.equal(json, undefined, `${where}: documented without a body, but one was sent`);
      } else {
        const [mediaType, { schema }] = Object.entries(answer.content)[0]!;
        assert.equal(contentType?.split(';')[0], mediaType, `${where}: media type`);
        const valid = validator(schema);
        assert.ok(valid(json), `${where}: the answer does not match ${String(schema.$ref)}: ${JSON.stringify(valid.errors?.slice(0, 3))}\n${JSON.stringify(json).slice(0, 500)}`);
      }
      if (status < 300 && op.requestBody && body !== undefined && typeof body !== 'string') {
        const valid = validator(op.requestBody.content['application/json']!.schema);
        assert.ok(valid(body), `${where}: the server accepted a body the document refuses: ${JSON.stringify(valid.errors?.slice(0, 3))}`);
      }
      return op.operationId;
    },
  };
}
