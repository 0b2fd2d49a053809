import { randomBytes } from 'node:crypto';
import type { Database } from '../db/connect.ts';
import { Conflict } from '../errors.ts';
import type { NewStream } from './schema.ts';

export type Stream = {
  stream_id: string;
  client_id: string;
  delivery_method: string;
  endpoint_url: string;
  authorization_header: string | null;
  events_requested: string[];
  description: string | null;
  status: 'enabled' | 'paused' | 'disabled';
  status_reason: string | null;
  failures: number;
};

const COLUMNS = ['stream_id', 'client_id', 'delivery_method', 'endpoint_url', 'authorization_header', 'events_requested', 'description', 'status', 'status_reason', 'failures'];

/** A client's stream (one per client), or undefined. */
export async function findStreamOfClient(db: Database, clientId: string, streamId?: string): Promise<Stream | undefined> {
  const q = db('ssf_streams').select(COLUMNS).where({ client_id: clientId });
  if (streamId !== undefined) q.andWhere({ stream_id: streamId });
  return q.first();
}

export async function createStream(db: Database, clientId: string, s: NewStream): Promise<Stream> {
  try {
    const [row] = await db('ssf_streams')
      .insert({
        stream_id: randomBytes(16).toString('base64url'),
        client_id: clientId,
        delivery_method: s.delivery.method,
        endpoint_url: s.delivery.endpoint_url,
        authorization_header: s.delivery.authorization_header ?? null,
        events_requested: JSON.stringify(s.events_requested),
        description: s.description ?? null,
      })
      .returning(COLUMNS);
    return row as Stream;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new Conflict('this client already has a stream; update or delete it');
    throw err;
  }
}

/** Changes a client's stream; only the fields given. */
export async function updateStream(
  db: Database,
  clientId: string,
  streamId: string,
  change: { delivery?: NewStream['delivery']; events_requested?: string[]; description?: string | null },
): Promise<Stream | undefined> {
  const values: Record<string, unknown> = { updated_at: db.fn.now() };
  if (change.delivery) {
    values.delivery_method = change.delivery.method;
    values.endpoint_url = change.delivery.endpoint_url;
    values.authorization_header = change.delivery.authorization_header ?? null;
  }
  if (change.events_requested) values.events_requested = JSON.stringify(change.events_requested);
  if (change.description !== undefined) values.description = change.description;
  const [row] = await db('ssf_streams').where({ client_id: clientId, stream_id: streamId }).update(values).returning(COLUMNS);
  return row as Stream | undefined;
}

/**
 * Sets a stream's status. Enabling it again forgets its failures and makes held events due now;
 * disabling it drops what waits (SSF 1.0: a disabled stream's events are not kept).
 */
export async function setStreamStatus(db: Database, clientId: string, streamId: string, status: Stream['status'], reason: string | undefined): Promise<Stream | undefined> {
  return db.transaction(async (trx) => {
    const [row] = await trx('ssf_streams')
      .where({ client_id: clientId, stream_id: streamId })
      .update({ status, status_reason: reason ?? null, updated_at: trx.fn.now(), ...(status === 'enabled' ? { failures: 0 } : {}) })
      .returning(COLUMNS);
    if (!row) return undefined;
    if (status === 'enabled') await trx('ssf_outbox').where({ stream_id: streamId }).whereNull('delivered_at').update({ next_attempt_at: trx.fn.now() });
    if (status === 'disabled') await trx('ssf_outbox').where({ stream_id: streamId }).whereNull('delivered_at').delete();
    return row as Stream;
  });
}

export async function deleteStream(db: Database, clientId: string, streamId: string): Promise<boolean> {
  return (await db('ssf_streams').where({ client_id: clientId, stream_id: streamId }).delete()) > 0;
}

/** remove_subject: the stream hears nothing more about the user. add_subject: it does again. */
export async function excludeSubject(db: Database, streamId: string, userId: string, excluded: boolean): Promise<void> {
  if (excluded) await db('ssf_excluded_subjects').insert({ stream_id: streamId, user_id: userId }).onConflict(['stream_id', 'user_id']).ignore();
  else await db('ssf_excluded_subjects').where({ stream_id: streamId, user_id: userId }).delete();
}
