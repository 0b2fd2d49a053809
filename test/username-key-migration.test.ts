/**
 * Migration 20261202000011 gives every existing user the username key sign-in and the counters use.
 * Run on a database of its own (a fresh embedded folder, or a throwaway PostgreSQL database).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectDatabase } from '../src/db/connect.ts';
import { migrateLatest } from '../src/db/migrate.ts';
import { throwawayDatabase } from './support/database.ts';
import { down, up } from '../migrations/20261202000011_username_key.ts';

test('existing users get their key (NFKC, lower-case); two names only NFKC tells apart keep apart, the newer unreachable by typing', async () => {
  const database = process.env.TEST_DATABASE_URL ? await throwawayDatabase(process.env.TEST_DATABASE_URL) : undefined;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-key-'));
  const db = connectDatabase(database ? { url: database.url } : { dataDir });
  try {
    await migrateLatest(db);
    await down(db); // as the database was before this migration
    await db('users').insert({ username: 'Alice' });
    await db('users').insert({ username: '\ufb01le' }); // the "fi" ligature: NFKC makes it "file"
    await db('users').insert({ username: 'FILE', created_at: new Date(Date.now() + 1000) });
    await up(db);
    const rows = (await db('users').select('id', 'username', 'username_key').orderBy('created_at')) as Array<{ id: string; username: string; username_key: string }>;
    assert.deepEqual(rows.slice(0, 2).map((r) => [r.username, r.username_key]), [['Alice', 'alice'], ['\ufb01le', 'file']]);
    assert.equal(rows[2]!.username_key, `file\u200b${rows[2]!.id}`);
    await assert.rejects(db('users').insert({ username: 'alice', username_key: 'alice' }), 'the key is unique');
  } finally {
    await db.destroy();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
