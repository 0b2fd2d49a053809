// The embedded database's own thread: PGlite (PostgreSQL compiled to WebAssembly) serving the
// PostgreSQL wire protocol on a unix socket, so Tessera reaches it through the same `pg` driver as
// a PostgreSQL server and PGlite's CPU never runs on the event loop that answers HTTP requests.
// Plain JavaScript: a worker thread does not inherit the TypeScript loader the CLI registers.
import net from 'node:net';
import { rmSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const { dataDir, socketPath } = workerData;

/** @type {PGlite} */
let db;
try {
  db = await PGlite.create(dataDir);
} catch (err) {
  parentPort.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

// PGlite is one PostgreSQL backend. A connection holds it from its first message until the backend
// says it is idle outside a transaction (ReadyForQuery 'I'); the others wait their turn. So neither a
// transaction nor an extended-protocol batch (Parse, Bind, Execute, Sync) of one connection ever
// interleaves with another's.
const READY_FOR_QUERY = 0x5a;
const IDLE = 0x49;
const SSL_REQUEST = 80877103;
const PROTOCOL_3 = 196608;
const TERMINATE = 0x58;
const PARSE = 0x50;

/**
 * @typedef {{ socket: net.Socket, pending: Buffer, started: boolean, closed: boolean, idle: boolean, statements: Set<string> }} Connection
 * `idle`: the backend's last answer to it ended idle outside a transaction; `statements`: the
 * prepared statements it named, which outlive its turn in the one backend.
 */
/** @type {Connection | null} */
let holder = null;
/** @type {Connection[]} */
const turns = [];
let running = false;

// A connection that stops talking in the middle of a transaction would hold the one backend, and
// with it the server, for ever (a CLI command suspended with Ctrl-Z, say): after this long it is cut
// off and its transaction rolled back, as PostgreSQL's idle_in_transaction_session_timeout would.
const IDLE_IN_TRANSACTION_MS = 15_000;
let stalled;

/** The next whole message in a connection's input, or null. The first message has no type byte. */
function takeMessage(conn) {
  const buf = conn.pending;
  if (!conn.started) {
    if (buf.length < 8) return null;
    const length = buf.readInt32BE(0);
    if (buf.length < length) return null;
    conn.pending = buf.subarray(length);
    return { startup: buf.readInt32BE(4), bytes: buf.subarray(0, length) };
  }
  if (buf.length < 5) return null;
  const length = 1 + buf.readInt32BE(1);
  if (buf.length < length) return null;
  conn.pending = buf.subarray(length);
  return { type: buf[0], bytes: buf.subarray(0, length) };
}

/** Whether the backend's answer ends idle outside a transaction: the connection's turn is over. */
function endsIdle(out) {
  let at = 0;
  let idle = false;
  while (at + 5 <= out.length) {
    idle = out[at] === READY_FOR_QUERY && out[at + 5] === IDLE;
    at += 1 + out.readInt32BE(at + 1);
  }
  return idle;
}

/** One message at a time, from the connection holding the backend, else the next in line. */
async function serve() {
  if (running) return;
  running = true;
  try {
    for (;;) {
      holder ??= turns.shift() ?? null;
      const conn = holder;
      if (!conn) return;
      if (conn.closed) {
        await release(conn);
        continue;
      }
      const message = takeMessage(conn);
      if (!message) {
        if (!conn.idle) {
          // mid-transaction or mid-batch: only this connection may go on
          clearTimeout(stalled);
          stalled = setTimeout(() => holder === conn && conn.socket.destroy(), IDLE_IN_TRANSACTION_MS);
          return;
        }
        holder = null;
        continue;
      }
      clearTimeout(stalled);
      await run(conn, message);
      if (conn.idle) {
        holder = null;
        if (conn.pending.length) turns.push(conn); // more to do: after the others waiting
      }
    }
  } finally {
    running = false;
  }
}

async function run(conn, message) {
  if (!conn.started) {
    if (message.startup === SSL_REQUEST) {
      conn.socket.write('N'); // no TLS on a private socket; the client goes on in the clear
      return;
    }
    if (message.startup !== PROTOCOL_3) {
      // CancelRequest or an unknown protocol: nothing to cancel on one backend, nothing to speak.
      conn.closed = true;
      conn.socket.destroy();
      return;
    }
    conn.started = true;
  } else if (message.type === TERMINATE) {
    conn.closed = true;
    conn.socket.end();
    return;
  } else if (message.type === PARSE) {
    const end = message.bytes.indexOf(0, 5);
    const name = message.bytes.toString('utf8', 5, end);
    if (name) conn.statements.add(name);
  }
  const chunks = [];
  try {
    await db.execProtocolRawStream(new Uint8Array(message.bytes), { onRawData: (data) => chunks.push(Buffer.from(data)) });
  } catch (err) {
    // PGlite itself failed (an SQL error comes back as an ErrorResponse instead): the backend
    // cannot be trusted any more, so the thread ends and its owner reports it.
    parentPort.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
  const out = Buffer.concat(chunks);
  if (out.length && !conn.closed) conn.socket.write(out);
  conn.idle = endsIdle(out);
}

/**
 * A connection that went away mid-transaction must not leave the backend in it, and the prepared
 * statements it named must not collide with a later connection's (a pool reconnecting reuses names).
 */
async function release(conn) {
  if (db.isInTransaction()) await db.exec('rollback').catch(() => {});
  for (const name of conn.statements) await db.exec(`deallocate "${name.replaceAll('"', '""')}"`).catch(() => {});
  conn.statements.clear();
  holder = null;
}

const server = net.createServer((socket) => {
  /** @type {Connection} */
  const conn = { socket, pending: Buffer.alloc(0), started: false, closed: false, idle: true, statements: new Set() };
  const wake = () => {
    if (holder !== conn && !turns.includes(conn)) turns.push(conn);
    void serve();
  };
  socket.on('data', (data) => {
    conn.pending = conn.pending.length ? Buffer.concat([conn.pending, data]) : data;
    wake();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    conn.closed = true;
    wake();
  });
});

rmSync(socketPath, { force: true }); // left by a process that was killed
server.listen(socketPath, () => parentPort.postMessage({ type: 'listening' }));

parentPort.on('message', async (msg) => {
  if (msg.type !== 'close') return;
  server.close();
  for (const conn of [holder, ...turns]) conn?.socket.destroy();
  await db.close();
  parentPort.postMessage({ type: 'closed' });
});
