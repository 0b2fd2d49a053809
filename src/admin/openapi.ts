import { z } from 'zod';
import { NewUser, UserPatch } from '../model/user.ts';
import { BulkPrivilegesInput, PrivilegesInput } from '../model/privileges.ts';
import { Membership, NewOrganization, OrganizationPatch } from '../model/organization.ts';
import { ClientPatch, NewClient } from '../model/client.ts';
import { NewResourceServer } from '../model/resource-server.ts';
import { JsonValue } from '../model/json.ts';
import { TokenPreviewInput } from '../model/token-preview.ts';
import { answers, type AnswerName } from './responses.ts';
import { DEFAULT_PAGE, MAX_PAGE } from './paging.ts';

type Operation = {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  scope: 'admin' | 'admin:privileges';
  body?: string;
  ok: number;
  /** The schema of the success answer (none for 204). */
  answer?: AnswerName;
  /** Why a DELETE may answer 409 (operations with a body may always). */
  conflict?: string;
  conditional?: boolean;
  /** A list read in pages: `limit` and `cursor` query parameters, `next` in the answer (admin/paging.ts). */
  paged?: boolean;
};

/**
 * Every admin operation. Request bodies are the zod schemas the handlers validate with, turned into
 * JSON Schema, so the document cannot describe a body the server would not accept; a test checks
 * that each route of the server is listed here.
 */
export const operations: Operation[] = [
  { method: 'post', path: '/users', summary: 'Create a user', scope: 'admin', body: 'NewUser', ok: 201, answer: 'User' },
  { method: 'get', path: '/users', summary: 'Find users by username, email or external_id', scope: 'admin', ok: 200, answer: 'UserList', paged: true },
  { method: 'get', path: '/users/{id}', summary: 'Read a user', scope: 'admin', ok: 200, answer: 'User' },
  { method: 'patch', path: '/users/{id}', summary: 'Change a user (enabled: false or a new password also signs them out)', scope: 'admin', body: 'UserPatch', ok: 200, answer: 'User' },
  { method: 'delete', path: '/users/{id}', summary: 'Delete a user and revoke their tokens', scope: 'admin', ok: 204 },
  { method: 'get', path: '/users/{id}/organizations', summary: "A user's organizations and roles", scope: 'admin', ok: 200, answer: 'UserOrganizationList', paged: true },
  { method: 'post', path: '/users/{id}/logout', summary: "Revoke a user's sessions, grants and tokens", scope: 'admin', ok: 200, answer: 'Logout' },
  { method: 'get', path: '/users/{id}/factors', summary: "A user's second factors (never their secrets) and how many recovery codes are left", scope: 'admin', ok: 200, answer: 'FactorList' },
  { method: 'delete', path: '/users/{id}/factors', summary: "Remove all of a user's second factors and recovery codes (a lost phone)", scope: 'admin', ok: 200, answer: 'FactorReset' },
  { method: 'delete', path: '/users/{id}/factors/{factor_id}', summary: "Remove one of a user's second factors", scope: 'admin', ok: 204 },
  { method: 'post', path: '/users/{id}/verify-email', summary: "Mail the user a link (24 hours) that verifies their current email address; 409 without SMTP or address", scope: 'admin', ok: 202, answer: 'VerificationSent', conflict: 'mail is not set up, or the user has no email address' },
  { method: 'post', path: '/users/{id}/password-reset', summary: 'A single-use link (15 minutes) that lets the user set a new password, for the operator to hand over', scope: 'admin', ok: 201, answer: 'PasswordResetLink' },
  { method: 'get', path: '/users/{id}/privileges', summary: "Read a user's privileges (version 0: none stored)", scope: 'admin:privileges', ok: 200, answer: 'Privileges' },
  { method: 'put', path: '/users/{id}/privileges', summary: "Replace a user's privileges", scope: 'admin:privileges', body: 'PrivilegesInput', ok: 200, answer: 'Privileges', conditional: true },
  { method: 'delete', path: '/users/{id}/privileges', summary: "Delete a user's privileges", scope: 'admin:privileges', ok: 204, conditional: true },
  { method: 'put', path: '/privileges', summary: 'Replace the privileges of up to 1000 users, all or nothing', scope: 'admin:privileges', body: 'BulkPrivilegesInput', ok: 200, answer: 'BulkPrivileges' },
  { method: 'post', path: '/organizations', summary: 'Create an organization', scope: 'admin', body: 'NewOrganization', ok: 201, answer: 'Organization' },
  { method: 'get', path: '/organizations', summary: 'List organizations', scope: 'admin', ok: 200, answer: 'OrganizationList', paged: true },
  { method: 'get', path: '/organizations/{org}', summary: 'Read an organization (id or alias)', scope: 'admin', ok: 200, answer: 'Organization' },
  { method: 'patch', path: '/organizations/{org}', summary: 'Change an organization', scope: 'admin', body: 'OrganizationPatch', ok: 200, answer: 'Organization' },
  { method: 'delete', path: '/organizations/{org}', summary: 'Delete an organization', scope: 'admin', ok: 204 },
  { method: 'get', path: '/organizations/{org}/members', summary: 'List members', scope: 'admin', ok: 200, answer: 'MemberList', paged: true },
  { method: 'put', path: '/organizations/{org}/members/{user}', summary: 'Add a member or change their roles', scope: 'admin', body: 'Membership', ok: 200, answer: 'StoredMembership' },
  { method: 'delete', path: '/organizations/{org}/members/{user}', summary: 'Remove a member', scope: 'admin', ok: 204 },
  { method: 'post', path: '/clients', summary: 'Register a client (the secret is shown only in this answer)', scope: 'admin', body: 'NewClient', ok: 201, answer: 'ClientWithSecret' },
  { method: 'get', path: '/clients/{id}', summary: 'Read a client', scope: 'admin', ok: 200, answer: 'Client' },
  { method: 'patch', path: '/clients/{id}', summary: 'Change a client', scope: 'admin', body: 'ClientPatch', ok: 200, answer: 'Client' },
  { method: 'delete', path: '/clients/{id}', summary: 'Delete a client', scope: 'admin', ok: 204, conflict: 'a client cannot delete itself' },
  { method: 'post', path: '/clients/{id}/secret', summary: "Rotate a client's secret", scope: 'admin', ok: 200, answer: 'ClientWithSecret' },
  { method: 'post', path: '/resource-servers', summary: 'Register a resource server', scope: 'admin', body: 'NewResourceServer', ok: 201, answer: 'ResourceServer' },
  { method: 'get', path: '/resource-servers', summary: 'List resource servers', scope: 'admin', ok: 200, answer: 'ResourceServerList', paged: true },
  { method: 'get', path: '/resource-servers/{identifier}', summary: 'Read a resource server (identifier percent-encoded)', scope: 'admin', ok: 200, answer: 'ResourceServer' },
  { method: 'delete', path: '/resource-servers/{identifier}', summary: 'Delete a resource server', scope: 'admin', ok: 204, conflict: 'a client still lists it in allowed_resources or default_resource' },
  { method: 'post', path: '/token-preview', summary: 'The claims each token would carry, the renames and drops, and the hook answer, without issuing anything', scope: 'admin', body: 'TokenPreviewInput', ok: 200, answer: 'TokenPreview' },
];

/** JSON Schemas of a set of zod schemas, named by their keys; `io` says which side of a transform they describe. */
function jsonSchemas(named: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, Record<string, unknown>> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' }) as { schemas: Record<string, Record<string, unknown>> };
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.$id;
  }
  return schemas;
}

/** Request bodies as the handlers read them (input: before defaults), answers as they are sent (output). */
function componentSchemas(): Record<string, unknown> {
  const bodies = { JsonValue, TokenPreviewInput, NewUser, UserPatch, PrivilegesInput, BulkPrivilegesInput, NewOrganization, OrganizationPatch, Membership, NewClient, ClientPatch, NewResourceServer };
  const shared = Object.keys(bodies).filter((name) => name !== 'JsonValue' && name in answers);
  if (shared.length) throw new Error(`a request body and an answer are both named ${shared.join(', ')}`);
  return { ...jsonSchemas(bodies, 'input'), ...jsonSchemas({ JsonValue, ...answers }, 'output') };
}

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });

/** The OpenAPI 3.1 document served at /admin/v1/openapi.json. */
export function openApiDocument(issuer: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const search = op.path === '/users' && op.method === 'get' ? ['username', 'email', 'external_id'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })) : [];
    const paging = op.paged
      ? [
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE }, description: 'items per page' },
          { name: 'cursor', in: 'query', required: false, schema: { type: 'string' }, description: "from the previous answer's next link; the items after the last one it sent" },
        ]
      : [];
    const query = [...search, ...paging];
    const ifMatch = op.conditional ? [{ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'an ETag from a previous answer ("3"), or *' }] : [];
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      security: [{ bearer: [op.scope] }],
      ...(params.length + query.length + ifMatch.length ? { parameters: [...params, ...query, ...ifMatch] } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${op.body}` } } } } } : {}),
      responses: {
        [op.ok]: op.answer ? { description: 'done', content: { 'application/json': { schema: { $ref: `#/components/schemas/${op.answer}` } } } } : { description: 'done' },
        400: problemResponse(op.paged ? 'malformed request, or a cursor this server did not give' : 'malformed request: not JSON, nested over 32 levels, or text with a NUL or a lone surrogate'),
        401: problemResponse('no valid token'),
        403: problemResponse(`the token lacks scope ${op.scope}`),
        404: problemResponse('not found'),
        ...(op.method !== 'get' && op.method !== 'delete' ? { 409: problemResponse('conflict'), 413: problemResponse('body over 1 MiB'), 415: problemResponse('not application/json'), 422: problemResponse('invalid body, with errors[]') } : {}),
        ...(op.conflict ? { 409: problemResponse(op.conflict) } : {}),
        ...(op.conditional ? { 412: problemResponse('If-Match does not match the stored version') } : {}),
        503: problemResponse('the database is unavailable; retry after the Retry-After header'),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tessera admin API', version: '1', description: 'Users, privileges, organizations, clients and resource servers. Authenticate with a token from this server (client_credentials, scope admin or admin:privileges).' },
    servers: [{ url: `${issuer}/admin/v1` }],
    components: {
      securitySchemes: {
        bearer: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: { admin: 'everything', 'admin:privileges': 'privileges endpoints only' } } } },
      },
      schemas: {
        ...componentSchemas(),
        Problem: {
          type: 'object',
          required: ['status', 'title'],
          properties: {
            type: { type: 'string' },
            status: { type: 'integer' },
            title: { type: 'string' },
            detail: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
    paths,
  };
}
