import type { AdapterPayload } from 'oidc-provider';

/**
 * How an `oidc_payloads` row reads back as what oidc-provider stored: the one rule for the adapter
 * and for the statements that read a token or grant alongside the claims (claim-sources.ts).
 */

/** SQL: the row (of `table`, when named) has not expired: an expired row is as good as gone, and the purge job removes it later. */
export function live(table?: string): string {
  const column = table ? `${table}.expires_at` : 'expires_at';
  return `(${column} is null or ${column} > now())`;
}

/** The stored payload, marked consumed (in Unix seconds, as oidc-provider marks it) once spent. */
export function payloadOfRow(row: { payload: unknown; consumed_at: Date | string | null }): AdapterPayload {
  const payload = row.payload as AdapterPayload;
  return row.consumed_at ? { ...payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) } : payload;
}

/** SQL: payloadOfRow for a row of `table`, for a statement that returns the payload as JSON. */
export function payloadJson(table: string): string {
  return `case when ${table}.consumed_at is null then ${table}.payload else ${table}.payload || jsonb_build_object('consumed', floor(extract(epoch from ${table}.consumed_at))::bigint) end`;
}
