import { ADMIN_SCOPES, ALL_ORGANIZATIONS_SCOPE, HASURA_SCOPE, ORGANIZATION_SCOPE, PRIVILEGES_SCOPE, aliasOfScope } from '../claims/scopes.ts';
import type { Messages } from './locales/index.ts';

/** What the consent page knows beyond the scope values: the organization the token will name, and each API's name. */
export type ScopeFacts = {
  brandName: string;
  /** The organization the answer will carry (with the user's roles), or every one (`organization:*`), or none known yet. */
  organization: { kind: 'one'; name: string; roles: string[] } | { kind: 'several'; names: string[] } | { kind: 'all' } | { kind: 'unknown' };
  /** Resource servers asked for, by name (their identifier when they have none), with the scopes asked of each. */
  apis: Array<{ name: string; scopes: string[]; description?: string }>;
};

/**
 * One line in words per thing the application asks for, in the order asked. The organization
 * scopes (`organization`, `organization:<alias>`, `organization:*`) make one line between them.
 * A scope this list does not know is shown as it is rather than hidden.
 */
export function describeScopes(t: Messages, scopes: readonly string[], facts: ScopeFacts): string[] {
  const lines: string[] = [];
  let organizationShown = false;
  for (const scope of scopes) {
    if (scope === ORGANIZATION_SCOPE || scope === ALL_ORGANIZATIONS_SCOPE || aliasOfScope(scope) !== undefined) {
      if (!organizationShown) lines.push(organizationLine(t, facts.organization));
      organizationShown = true;
      continue;
    }
    lines.push(scopeLine(t, scope, facts.brandName));
  }
  // The API's own description when it has one (written by the deployer, in one language), else its scope names.
  for (const api of facts.apis) lines.push(text(t.scopeApi, { api: api.name, scopes: api.description ?? api.scopes.join(t.listSeparator) }));
  return lines;
}

/** Texts are filled as plain text here; the page escapes the lines once. */
function text(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

function organizationLine(t: Messages, o: ScopeFacts['organization']): string {
  switch (o.kind) {
    case 'one':
      return o.roles.length ? text(t.scopeOrganizationWithRoles, { organization: o.name, roles: o.roles.join(t.listSeparator) }) : text(t.scopeOrganizationNamed, { organization: o.name });
    case 'several':
      return text(t.scopeOrganizationNamed, { organization: o.names.join(t.listSeparator) });
    case 'all':
      return t.scopeAllOrganizations;
    case 'unknown':
      return t.scopeOrganization;
  }
}

function scopeLine(t: Messages, scope: string, brandName: string): string {
  switch (scope) {
    case 'openid':
      return t.scopeOpenid;
    case 'profile':
      return t.scopeProfile;
    case 'email':
      return t.scopeEmail;
    case 'address':
      return t.scopeAddress;
    case 'phone':
      return t.scopePhone;
    case 'offline_access':
      return t.scopeOfflineAccess;
    case PRIVILEGES_SCOPE:
      return t.scopePrivileges;
    case HASURA_SCOPE:
      return t.scopeHasura;
    case ADMIN_SCOPES[0]:
      return text(t.scopeAdmin, { brand: brandName });
    case ADMIN_SCOPES[1]:
      return t.scopeAdminPrivileges;
    default:
      return scope;
  }
}
