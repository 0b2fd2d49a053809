import type { Knex } from 'knex';

/**
 * Removes what oidc-provider issued to one client (all models, or only those named): the provider
 * finds nothing afterwards, so the tokens stop working on every instance at once.
 */
export async function revokeClientTokens(db: Knex, clientId: string, models?: string[]): Promise<number> {
  const q = db('oidc_payloads').whereRaw("payload->>'clientId' = ?", [clientId]);
  if (models) q.whereIn('model', models);
  return q.delete();
}
