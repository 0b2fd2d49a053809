/**
 * The embedded database's socket takes what a `pg` client sends, and nothing else reaches PGlite:
 * a message type PGlite does not know (or COPY, or a function call) made its protocol loop spin for
 * ever, with the thread at 100% CPU and every request of the server waiting on the database. Any
 * process of Tessera's user can reach the socket (a psql, a CLI of another version), so each case
 * here is sent to a running server, which must refuse it with PostgreSQL's protocol-violation error
 * and go on answering (src/db/embedded/worker.js).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { testEnv } from './support/server.ts';
import { cliJson, startServerProcess } from './support/processes.ts';
import { dataDirOwner } from '../src/db/data-dir-lock.ts';

const embedded = !process.env.TEST_DATABASE_URL;

function startupPacket(): Buffer {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + params.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, params]);
}

const message = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
};
const query = (sql: string) => message('Q', Buffer.from(`${sql}\0`));

/** Sends `parts` in order (each after the answer to the one before has begun), and returns all it got until the server closed. */
async function exchange(socketPath: string, parts: Buffer[]): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let received = Buffer.alloc(0);
    let next = 0;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: received.toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), 10_000);
    socket.on('connect', () => socket.write(parts[next++]!));
    socket.on('data', (data) => {
      received = Buffer.concat([received, data]);
      // The answer to the last part sent ends with ReadyForQuery: then the next part.
      if (next < parts.length && received.at(-6) === 0x5a) socket.write(parts[next++]!);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {});
  });
}

test('messages PGlite cannot take are refused at the socket, and the server goes on answering', { skip: !embedded && 'PGlite only', timeout: 180_000 }, async () => {
  const { env, cleanup } = await testEnv();
  const server = await startServerProcess(env);
  try {
    const service = await cliJson<{ client_id: string; client_secret: string }>(['client', 'add', '--name', 'Protocol', '--grant-types', 'client_credentials'], env);
    const owner = dataDirOwner(env.TESSERA_DATA_DIR!);
    assert.ok(owner, 'the running server holds the data folder and names its socket');
    const socketPath = path.join(owner.socketDir, '.s.PGSQL.5432');
    const token = () =>
      fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(20_000),
      });

    const cases: Array<[string, Buffer[]]> = [
      ['an unknown message type', [startupPacket(), message('z', Buffer.alloc(0))]],
      ['a function call', [startupPacket(), message('F', Buffer.alloc(10))]],
      ['COPY data', [startupPacket(), message('d', Buffer.from('x'))]],
      ['a COPY failure', [startupPacket(), message('f', Buffer.from('no\0'))]],
      ['a message length below its own header', [startupPacket(), Buffer.from([0x51, 0, 0, 0, 2])]],
      ['an unknown type inside an open transaction', [startupPacket(), query('begin'), message('z', Buffer.alloc(0))]],
      ['a startup packet of a negative length', [Buffer.from([0xff, 0xff, 0xff, 0xf0, 0, 3, 0, 0])]],
    ];
    for (const [name, parts] of cases) {
      const { received, closed } = await exchange(socketPath, parts);
      assert.ok(closed, `${name}: the connection is closed`);
      if (parts.length > 1) assert.match(received, /C08P01/, `${name}: answered with a protocol violation`);
      const res = await token();
      assert.equal(res.status, 200, `${name}: the server still issues tokens: ${await res.text()}`);
    }

    // The transaction the refused connection had opened is not left holding the database.
    const { received } = await exchange(socketPath, [startupPacket(), query('select 1 as still_here')]);
    assert.match(received, /still_here/, 'a well-formed query on the socket is answered');
  } finally {
    await server.kill();
    cleanup();
  }
});
