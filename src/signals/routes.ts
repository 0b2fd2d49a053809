import Router from '@koa/router';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { ZodError } from 'zod';
import type { Database } from '../db/connect.ts';
import { findClientForRequest } from '../storage/clients.ts';
import { SSF_SCOPE, splitScope } from '../claims/scopes.ts';
import { readJson } from '../admin/json-body.ts';
import { Problem, problems } from '../admin/problem.ts';
import { hookUrlProblem, type AddressPolicy } from '../hooks/address-policy.ts';
import { EVENTS_SUPPORTED, enqueueVerification } from './events.ts';
import { NewStream, PUSH, StatusUpdate, StreamPatch, StreamReplace, SubjectRequest, VerificationRequest, eventsDelivered } from './schema.ts';
import { createStream, deleteStream, excludeSubject, findStreamOfClient, setStreamStatus, updateStream, type Stream } from './streams.ts';

const PREFIX = '/ssf';

/** SSF 1.0 transmitter metadata (section 7.1), served at /.well-known/ssf-configuration. */
export function transmitterMetadata(issuer: string) {
  return {
    spec_version: '1_0',
    issuer,
    jwks_uri: `${issuer}/jwks`,
    delivery_methods_supported: [PUSH],
    configuration_endpoint: `${issuer}${PREFIX}/stream`,
    status_endpoint: `${issuer}${PREFIX}/status`,
    verification_endpoint: `${issuer}${PREFIX}/verify`,
    add_subject_endpoint: `${issuer}${PREFIX}/subjects/add`,
    remove_subject_endpoint: `${issuer}${PREFIX}/subjects/remove`,
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
    default_subjects: 'ALL',
  };
}

/** A stream as the receiver reads it (the push authorization header is write-only). */
function shown(s: Stream, issuer: string) {
  return {
    stream_id: s.stream_id,
    iss: issuer,
    aud: s.client_id,
    delivery: { method: s.delivery_method, endpoint_url: s.endpoint_url },
    events_supported: [...EVENTS_SUPPORTED],
    events_requested: s.events_requested,
    events_delivered: eventsDelivered(s.events_requested),
    ...(s.description ? { description: s.description } : {}),
  };
}

const status = (s: Stream) => ({ stream_id: s.stream_id, status: s.status, ...(s.status_reason ? { reason: s.status_reason } : {}) });

/**
 * A bearer token from Tessera's token endpoint by client_credentials with scope `ssf`, still allowed
 * to its client: the client is the receiver, and manages only its own stream.
 */
function receiverAuth(provider: Provider, db: Database): Middleware {
  return async (ctx, next) => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'));
    const challenge = (error?: string) => ({ 'www-authenticate': `Bearer realm="tessera-ssf"${error ? `, error="${error}"` : ''}` });
    if (!match) throw new Problem(401, 'Unauthorized', 'send a bearer token obtained by client_credentials with scope ssf', undefined, challenge());
    const token = await provider.ClientCredentials.find(match[1]!);
    if (!token || token.isExpired) throw new Problem(401, 'Unauthorized', 'the bearer token is unknown or expired', undefined, challenge('invalid_token'));
    const client = token.clientId ? await findClientForRequest(db, token.clientId) : undefined;
    if (!client) throw new Problem(401, 'Unauthorized', 'the client of this bearer token no longer exists', undefined, challenge('invalid_token'));
    const granted = splitScope(String(token.scope ?? ''));
    if (!granted.includes(SSF_SCOPE) || !splitScope(client.scope).includes(SSF_SCOPE)) throw new Problem(403, 'Forbidden', 'this needs a token with scope ssf', undefined, challenge('insufficient_scope'));
    ctx.state.receiver = client.client_id;
    await next();
  };
}

/** Invalid requests are 400s here (SSF 1.0 section 8.1), not the admin API's 422. */
function badRequests(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof ZodError) {
        throw new Problem(400, 'Invalid request', 'the request does not match the stream schema', err.issues.map((i) => ({ path: '/' + i.path.map(String).join('/'), message: i.message })));
      }
      throw err;
    }
  };
}

/** The stream management API (SSF 1.0 section 8): configuration, status and verification. */
export function signalsRouter(deps: { provider: Provider; db: Database; addressPolicy: AddressPolicy; nudge: () => void }): Router {
  const { provider, db, addressPolicy, nudge } = deps;
  const issuer = provider.issuer;
  const router = new Router({ prefix: PREFIX });
  router.use(problems());
  router.use(async (ctx, next) => {
    ctx.set('cache-control', 'no-store');
    await next();
  });
  router.use(receiverAuth(provider, db));
  router.use(badRequests());

  const endpointAllowed = (url: string | undefined) => {
    const problem = url ? hookUrlProblem(url, addressPolicy) : undefined;
    if (problem) throw new Problem(400, 'Invalid request', 'the delivery endpoint is refused', [{ path: '/delivery/endpoint_url', message: problem }]);
  };
  const streamId = (q: unknown) => (typeof q === 'string' && q.length > 0 && q.length <= 100 ? q : undefined);
  const mine = async (clientId: string, id: string | undefined) => {
    const s = await findStreamOfClient(db, clientId, id);
    if (!s) throw new Problem(404, 'Not found', id ? `no stream ${id} of this receiver` : 'this receiver has no stream');
    return s;
  };

  router.post('/stream', async (ctx) => {
    const input = NewStream.parse(await readJson(ctx));
    endpointAllowed(input.delivery.endpoint_url);
    const created = await createStream(db, ctx.state.receiver, input);
    ctx.status = 201;
    ctx.body = shown(created, issuer);
  });

  router.get('/stream', async (ctx) => {
    const id = streamId(ctx.query.stream_id);
    if (id === undefined && ctx.query.stream_id !== undefined) throw new Problem(400, 'Invalid request', 'stream_id is malformed');
    if (id) ctx.body = shown(await mine(ctx.state.receiver, id), issuer);
    else {
      const s = await findStreamOfClient(db, ctx.state.receiver);
      ctx.body = s ? [shown(s, issuer)] : [];
    }
  });

  router.patch('/stream', async (ctx) => {
    const patch = StreamPatch.parse(await readJson(ctx));
    endpointAllowed(patch.delivery?.endpoint_url);
    await mine(ctx.state.receiver, patch.stream_id);
    ctx.body = shown((await updateStream(db, ctx.state.receiver, patch.stream_id, patch))!, issuer);
  });

  router.put('/stream', async (ctx) => {
    const replacement = StreamReplace.parse(await readJson(ctx));
    endpointAllowed(replacement.delivery.endpoint_url);
    await mine(ctx.state.receiver, replacement.stream_id);
    ctx.body = shown((await updateStream(db, ctx.state.receiver, replacement.stream_id, { ...replacement, description: replacement.description ?? null }))!, issuer);
  });

  router.delete('/stream', async (ctx) => {
    const id = streamId(ctx.query.stream_id);
    if (!id) throw new Problem(400, 'Invalid request', 'name the stream: ?stream_id=');
    if (!(await deleteStream(db, ctx.state.receiver, id))) throw new Problem(404, 'Not found', `no stream ${id} of this receiver`);
    ctx.status = 204;
  });

  router.get('/status', async (ctx) => {
    const id = streamId(ctx.query.stream_id);
    if (!id) throw new Problem(400, 'Invalid request', 'name the stream: ?stream_id=');
    ctx.body = status(await mine(ctx.state.receiver, id));
  });

  router.post('/status', async (ctx) => {
    const update = StatusUpdate.parse(await readJson(ctx));
    await mine(ctx.state.receiver, update.stream_id);
    const saved = (await setStreamStatus(db, ctx.state.receiver, update.stream_id, update.status, update.reason))!;
    if (saved.status === 'enabled') nudge();
    ctx.body = status(saved);
  });

  router.post('/verify', async (ctx) => {
    const request = VerificationRequest.parse(await readJson(ctx));
    const s = await mine(ctx.state.receiver, request.stream_id);
    await enqueueVerification(db, s.stream_id, request.state);
    nudge();
    ctx.status = 204;
  });

  // Every user with a grant with the client is a subject by default; these exclude one or include them again.
  // A subject Tessera does not know is accepted as well (SSF 1.0 allows it): the answer never tells
  // a receiver whether a user exists.
  for (const [path, excluded] of [['/subjects/remove', true], ['/subjects/add', false]] as const) {
    router.post(path, async (ctx) => {
      const request = SubjectRequest.parse(await readJson(ctx));
      if (request.subject.iss !== issuer) throw new Problem(400, 'Invalid request', `subjects of this transmitter have iss ${issuer}`, [{ path: '/subject/iss', message: 'not this issuer' }]);
      const s = await mine(ctx.state.receiver, request.stream_id);
      await excludeSubject(db, s.stream_id, request.subject.sub, excluded);
      ctx.status = 200;
      ctx.body = '';
    });
  }

  router.all('/{*rest}', () => {
    throw new Problem(404, 'Not found', 'no such stream management resource');
  });
  return router;
}
