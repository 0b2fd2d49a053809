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
const BIND = 0x42;
const DESCRIBE = 0x44;
const CLOSE = 0x43;
const STATEMENT = 0x53;

// The frontend messages a `pg` client sends after startup: simple and extended queries. PGlite's
// own protocol loop spins for ever (the thread at 100% CPU, every connection waiting) on a message
// type it does not know, after its FATAL, so nothing else reaches it: COPY and the function-call
// message are refused here too, as this database has no use for them.
const ACCEPTED = new Set([0x51 /* Q */, PARSE, BIND, DESCRIBE, 0x45 /* E */, 0x53 /* S */, CLOSE, 0x48 /* H */, TERMINATE]);
// A startup packet is small (PostgreSQL takes up to 10,000 bytes); a statement with its values
// may be large, but not more than this (PostgreSQL's own limit is 1 GB, which PGlite could not hold).
const MAX_STARTUP = 10_000;
const MAX_MESSAGE = 64 * 1024 * 1024;

/**
 * @typedef {{ socket: net.Socket, pending: Buffer, answers: Buffer[], started: boolean, closed: boolean, idle: boolean, prefix: string, statements: Set<string>, overflowed?: boolean }} Connection
 * `answers`: the backend's answers not yet sent (see answer); `idle`: the backend's last answer to
 * it ended idle outside a transaction; `prefix`: what its statement names become in the backend;
 * `statements`: the prepared statements it named (as the backend knows them), which outlive its turn
 * in the one backend.
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

/**
 * The length of the whole message at the head of a connection's input, or 0 while it is incomplete.
 * The first message (startup) has no type byte.
 */
function wholeMessageLength(conn) {
  const buf = conn.pending;
  if (!conn.started) return buf.length >= 8 && buf.length >= buf.readInt32BE(0) ? buf.readInt32BE(0) : 0;
  return buf.length >= 5 && buf.length >= 1 + buf.readInt32BE(1) ? 1 + buf.readInt32BE(1) : 0;
}

/**
 * Why the message at the head of a connection's input must not reach PGlite (a length no message
 * can have, or a type it does not take), or undefined. Known from its first bytes, so a client
 * announcing a huge message is refused before it is buffered.
 */
function refusal(conn) {
  if (conn.overflowed) return 'more input waiting than one message';
  const buf = conn.pending;
  if (!conn.started) {
    if (buf.length < 4) return undefined;
    const length = buf.readInt32BE(0);
    return length < 8 || length > MAX_STARTUP ? `invalid startup packet length ${length}` : undefined;
  }
  if (!buf.length) return undefined;
  if (!ACCEPTED.has(buf[0])) return `unsupported frontend message type ${buf[0]} (the embedded database takes queries only)`;
  if (buf.length < 5) return undefined;
  const length = buf.readInt32BE(1);
  return length < 4 || length > MAX_MESSAGE ? `invalid message length ${length}` : undefined;
}

/** PostgreSQL's answer to a protocol violation: a FATAL ErrorResponse (08P01), then the connection closes. */
function protocolViolation(message) {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C08P01\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = 0x45; // E
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/** The next whole message in a connection's input, or null. */
function takeMessage(conn) {
  const length = wholeMessageLength(conn);
  if (!length) return null;
  const bytes = conn.pending.subarray(0, length);
  conn.pending = conn.pending.subarray(length);
  return conn.started ? { type: bytes[0], bytes } : { startup: bytes.readInt32BE(4), bytes };
}

/**
 * The backend's answers to a connection go out in one write once it has no whole message left to
 * run (a statement's Bind, Describe, Execute and Sync arrive together and are answered together),
 * rather than a write per message, four per statement: in profiled refresh runs the thread's time in
 * writes went from 0.49 to 0.27 ms per refresh (docs/benchmarks.md, round 6). Never later than that,
 * since the client may be waiting for them.
 */
function answer(conn) {
  if (!conn.answers.length) return;
  if (!conn.closed) conn.socket.write(conn.answers.length === 1 ? conn.answers[0] : Buffer.concat(conn.answers));
  conn.answers = [];
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
      const refused = refusal(conn);
      if (refused) {
        // What it sent before is answered; then, as PostgreSQL does, a FATAL and the connection ends.
        conn.answers.push(protocolViolation(refused));
        answer(conn);
        conn.closed = true;
        conn.socket.end();
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
      if (conn.idle || !wholeMessageLength(conn)) answer(conn);
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
  } else {
    message = ownStatementNames(conn, message);
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
  if (out.length) conn.answers.push(out);
  conn.idle = endsIdle(out);
}

/**
 * Prepared statements live in the backend, which every connection shares, and each connection's pool
 * names its statements the same way: in Parse, Bind, Describe and Close, a connection's statement
 * names are given its own prefix, so two connections preparing "refresh_token" get two statements.
 * (Portals, and the unnamed statement, last only within a turn: they are left as they are.)
 */
function ownStatementNames(conn, message) {
  const { type, bytes } = message;
  let at; // where the statement name starts
  if (type === PARSE) at = 5;
  else if (type === BIND) at = bytes.indexOf(0, 5) + 1; // after the portal's name
  else if ((type === DESCRIBE || type === CLOSE) && bytes[5] === STATEMENT) at = 6;
  else return message;
  const end = bytes.indexOf(0, at);
  if (end === at) return message; // the unnamed statement
  const name = conn.prefix + bytes.toString('utf8', at, end);
  if (type === PARSE) conn.statements.add(name);
  else if (type === CLOSE) conn.statements.delete(name);
  const renamed = Buffer.concat([bytes.subarray(0, at), Buffer.from(name, 'utf8'), bytes.subarray(end)]);
  renamed.writeInt32BE(renamed.length - 1, 1);
  return { type, bytes: renamed };
}

/**
 * A connection that went away mid-transaction must not leave the backend in it, and the prepared
 * statements it named must not stay in the backend for ever.
 */
async function release(conn) {
  if (db.isInTransaction()) await db.exec('rollback').catch(() => {});
  for (const name of conn.statements) await db.exec(`deallocate "${name.replaceAll('"', '""')}"`).catch(() => {});
  conn.statements.clear();
  holder = null;
}

let connections = 0;
const server = net.createServer((socket) => {
  /** @type {Connection} */
  const conn = { socket, pending: Buffer.alloc(0), answers: [], started: false, closed: false, idle: true, prefix: `c${++connections}_`, statements: new Set() };
  const wake = () => {
    if (holder !== conn && !turns.includes(conn)) turns.push(conn);
    void serve();
  };
  socket.on('data', (data) => {
    conn.pending = conn.pending.length ? Buffer.concat([conn.pending, data]) : data;
    // More than one message's worth waiting for its turn: a client that sends without reading.
    if (conn.pending.length > MAX_MESSAGE + 5) {
      conn.overflowed = true;
      conn.pending = Buffer.alloc(0);
    }
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
