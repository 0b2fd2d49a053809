import { test } from 'node:test';
import assert from 'node:assert/strict';
import { organizationRequest, aliasOfScope } from '../../src/claims/scopes.ts';
import { selectOrganizations, organizationClaim, hookOrganization, type Membership } from '../../src/claims/organization.ts';
import { hasuraClaims } from '../../src/claims/hasura.ts';
import { placedClaims, withPayload } from '../../src/claims/assemble.ts';

const acme: Membership = { id: 'a1', alias: 'acme', name: 'Acme', roles: ['admin', 'billing'], attributes: { plan: 'pro' } };
const beta: Membership = { id: 'b2', alias: 'beta', name: 'Beta', roles: [], attributes: {} };

test('organization scopes: * wins over aliases, aliases over the plain scope', () => {
  assert.deepEqual(organizationRequest(['openid']), { kind: 'none' });
  assert.deepEqual(organizationRequest(['organization']), { kind: 'one' });
  assert.deepEqual(organizationRequest(['organization', 'organization:acme', 'organization:acme']), { kind: 'aliases', aliases: ['acme'] });
  assert.deepEqual(organizationRequest(['organization:acme', 'organization:*']), { kind: 'all' });
  assert.equal(aliasOfScope('organization:Acme'), undefined, 'aliases are lowercase tokens');
  assert.equal(aliasOfScope('organization:'), undefined);
  assert.equal(aliasOfScope('organizations:acme'), undefined);
});

test('plain organization: the only one, the remembered one, a fresh choice, or a choice to make', () => {
  const one = { kind: 'one' } as const;
  assert.deepEqual(selectOrganizations(one, [acme], null), { ok: true, inClaim: [acme], active: acme });
  assert.deepEqual(selectOrganizations(one, [acme, beta], null), { ok: false, error: 'choice_required', choices: [acme, beta] });
  assert.deepEqual(selectOrganizations(one, [acme, beta], 'b2'), { ok: true, inClaim: [beta], active: beta });
  assert.deepEqual(selectOrganizations(one, [acme, beta], 'b2', 'acme'), { ok: true, inClaim: [acme], active: acme });
  assert.deepEqual(selectOrganizations(one, [], null), { ok: true, inClaim: [], active: null });
  assert.deepEqual(selectOrganizations(one, [acme, beta], 'gone'), { ok: false, error: 'choice_required', choices: [acme, beta] }, 'a left organization is forgotten');
  assert.deepEqual(selectOrganizations(one, [acme], null, 'beta'), { ok: false, error: 'not_member', alias: 'beta' });
});

test('organization:<alias> needs membership of each alias; organization:* lists all', () => {
  assert.deepEqual(selectOrganizations({ kind: 'aliases', aliases: ['beta'] }, [acme, beta], 'a1'), { ok: true, inClaim: [beta], active: beta });
  assert.deepEqual(selectOrganizations({ kind: 'aliases', aliases: ['acme', 'gamma'] }, [acme], null), { ok: false, error: 'not_member', alias: 'gamma' });
  const two = selectOrganizations({ kind: 'aliases', aliases: ['acme', 'beta'] }, [acme, beta], 'b2');
  assert.deepEqual(two, { ok: true, inClaim: [acme, beta], active: beta });
  assert.deepEqual(selectOrganizations({ kind: 'all' }, [acme, beta], null), { ok: true, inClaim: [acme, beta], active: null });
  assert.deepEqual(selectOrganizations({ kind: 'all' }, [acme, beta], null, 'beta'), { ok: true, inClaim: [acme, beta], active: beta });
});

test('the claim is keyed by alias; attributes never replace id, name or roles', () => {
  const evil: Membership = { ...acme, attributes: { id: 'forged', roles: ['root'], name: 'X', region: 'eu' } };
  assert.deepEqual(organizationClaim([evil, beta]), {
    acme: { id: 'a1', name: 'Acme', roles: ['admin', 'billing'], region: 'eu' },
    beta: { id: 'b2', name: 'Beta', roles: [] },
  });
  assert.deepEqual(hookOrganization(acme), { id: 'a1', alias: 'acme', roles: ['admin', 'billing'] });
  assert.equal(hookOrganization(null), null);
});

test('Hasura claims are strings for the active organization, user without one', () => {
  assert.deepEqual(hasuraClaims('u1', acme), { 'x-hasura-user-id': 'u1', 'x-hasura-org-id': 'a1', 'x-hasura-allowed-roles': ['admin', 'billing'], 'x-hasura-default-role': 'admin' });
  assert.deepEqual(hasuraClaims('u1', null), { 'x-hasura-user-id': 'u1', 'x-hasura-allowed-roles': ['user'], 'x-hasura-default-role': 'user' });
  assert.deepEqual(hasuraClaims('u1', beta)['x-hasura-default-role'], 'user', 'an organization without roles');
});

test('placed claims follow the granted scopes and the target', () => {
  const src = { sub: 'u1', inClaim: [acme], active: acme, privileges: { profile: 'editor', scope: 'a b' } };
  assert.deepEqual(placedClaims({ ...src, scopes: ['openid'] }, 'id_token'), {});
  assert.deepEqual(Object.keys(placedClaims({ ...src, scopes: ['organization:acme', 'privileges', 'hasura'] }, 'access_token')).sort(), ['https://hasura.io/jwt/claims', 'organization', 'user_profile', 'user_scope']);
  assert.deepEqual(Object.keys(placedClaims({ ...src, scopes: ['organization', 'privileges', 'hasura'] }, 'userinfo')).sort(), ['organization', 'user_profile', 'user_scope'], 'Hasura only in tokens');
  assert.deepEqual(placedClaims({ ...src, privileges: undefined, scopes: ['privileges'] }, 'id_token'), { user_profile: null, user_scope: '' });
  assert.deepEqual(placedClaims({ ...src, sub: undefined, scopes: ['organization', 'privileges'] }, 'access_token'), {}, 'client credentials: nobody to describe');
});

test('payload merge: requested_scope only with a hook, standard names reserved even when not granted', () => {
  const none = withPayload({ organization: {} }, { hookActive: false, requestedScope: 'x', claims: undefined });
  assert.deepEqual(none.claims, { organization: {} });
  const merged = withPayload({}, { hookActive: true, requestedScope: 'openid email', claims: { email: 'a@b', requested_scope: 'mine', tier: 1 } });
  assert.deepEqual(merged.claims, { requested_scope: 'openid email', tier: 1, extra_email: 'a@b', extra_requested_scope: 'mine' });
  assert.deepEqual(merged.renamed.map((r) => r.from).sort(), ['email', 'requested_scope']);
});
