type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

// Field names whose values are never written, at any depth, whatever the level.
const SECRET_KEYS = /pass(word)?|secret|token|authorization|cookie|code_verifier|^code$|private|^d$|assertion/i;

export type Logger = {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** An info line written at every level but silent: the few lines an operator must always see ("listening"). */
  notice(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
};

// Deeper than this, a value is not written at all: redaction must never stop short of a secret.
const MAX_DEPTH = 32;

export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  if (value instanceof Error) return { name: value.name, message: value.message };
  seen.add(value);
  const out: unknown = Array.isArray(value)
    ? value.map((v) => redact(v, depth + 1, seen))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1, seen)]));
  seen.delete(value);
  return out;
}

/** JSON lines on stdout, one object per event, with secrets removed by field name. */
export function createLogger(level: Level | 'silent' = 'info', base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stdout.write(l + '\n')): Logger {
  return new JsonLogger(order[level], base, write);
}

// A class rather than closures: every request makes a child logger, and methods on the prototype
// cost nothing per child.
class JsonLogger implements Logger {
  constructor(
    private readonly threshold: number,
    private readonly base: Record<string, unknown>,
    private readonly write: (line: string) => void,
  ) {}

  private emit(lvl: Level, msg: string, fields?: Record<string, unknown>, always = false) {
    if (order[lvl] < this.threshold && !(always && this.threshold < order.silent)) return;
    this.write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...(redact({ ...this.base, ...fields }) as object) }));
  }

  debug(msg: string, fields?: Record<string, unknown>) {
    this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>) {
    this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>) {
    this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>) {
    this.emit('error', msg, fields);
  }
  notice(msg: string, fields?: Record<string, unknown>) {
    this.emit('info', msg, fields, true);
  }
  child(fields: Record<string, unknown>): Logger {
    return new JsonLogger(this.threshold, { ...this.base, ...fields }, this.write);
  }
}
