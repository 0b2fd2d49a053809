import { parseArgs } from 'node:util';

export type Io = { out: (text: string) => void; err: (text: string) => void };

/**
 * One option of a command. Parsing, the required check and `--help` are all generated from this
 * table, so the help cannot describe an option the parser does not take, or miss one it does.
 */
export type OptionSpec = {
  type: 'string' | 'boolean';
  /** One line: what it is for. */
  description: string;
  /** What the value looks like in the help: `<url>`, `<list>`, `<json>`. */
  value?: string;
  /** The allowed values, when there is a fixed set. */
  values?: readonly string[];
  /** The unit of a number (seconds, ...). */
  unit?: string;
  /** How a list is separated (`comma or space`), or that the option may be repeated. */
  separator?: string;
  required?: boolean;
  /** May be given more than once (each time adds a value); any other option given twice is an error. */
  multiple?: boolean;
  short?: string;
};

export type Values = Record<string, string | boolean | string[] | undefined>;

export type Command = {
  /** The words that name it: ['org', 'member', 'add']. */
  path: string[];
  summary: string;
  /** Example invocation, shown as the usage line. */
  usage: string;
  options: Record<string, OptionSpec>;
  run(values: Values, positionals: string[], io: Io): Promise<number>;
};

export class UsageError extends Error {}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help and exit' };

/** The closest of `candidates` to `word` (edit distance at most 2, or a prefix), for "did you mean". */
export function suggest(word: string, candidates: string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = name.startsWith(word) && word.length >= 3 ? 1 : distance(word, name);
    if (d <= Math.max(2, Math.floor(name.length / 4)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

export function parse(command: Command, argv: string[]): { values: Values; positionals: string[] } {
  const specs: Record<string, OptionSpec> = { ...command.options, help: HELP };
  const options = Object.fromEntries(Object.entries(specs).map(([name, o]) => [name, { type: o.type, multiple: o.multiple === true, ...(o.short ? { short: o.short } : {}) }]));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(e.message);
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
      const guess = suggest(unknown[2]!, Object.keys(specs));
      throw new UsageError(`unknown option ${unknown[1]}${unknown[2]}${guess ? `; did you mean --${guess}?` : ''}`);
    }
    throw new UsageError(e.message.split('\n')[0]!);
  }
  // parseArgs keeps the last of a repeated option: `--roles a --roles b` would silently drop `a`.
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name) && !specs[t.name]?.multiple) throw new UsageError(`--${t.name} is given more than once; give it once`);
    seen.add(t.name);
  }
  const values = parsed.values as Values;
  if (!values.help) {
    for (const [name, o] of Object.entries(command.options)) {
      const v = values[name];
      if (o.required && (v === undefined || v === '')) throw new UsageError(`--${name} is required`);
    }
  }
  return { values, positionals: parsed.positionals };
}

/** The words after `--name`: its value shape, or nothing for a switch. */
function placeholder(o: OptionSpec): string {
  if (o.type === 'boolean') return '';
  return ` ${o.value ?? '<value>'}`;
}

/** One line per option: name, what it is, and its allowed values, unit, separator and whether it is required. */
function optionLine(name: string, o: OptionSpec, width: number): string {
  const facts = [
    o.required ? 'required' : undefined,
    o.values ? `one of: ${o.values.join(', ')}` : undefined,
    o.unit ? `in ${o.unit}` : undefined,
    o.separator ? `${o.separator}-separated` : undefined,
    o.multiple ? 'repeat for more than one' : undefined,
  ].filter(Boolean);
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${placeholder(o)}`;
  return `  ${flag.padEnd(width)}  ${o.description}${facts.length ? ` (${facts.join('; ')})` : ''}`;
}

export function helpText(command: Command): string {
  const entries = [...Object.entries(command.options), ['help', HELP] as const];
  const width = Math.max(...entries.map(([name, o]) => `${o.short ? `-${o.short}, ` : ''}--${name}${placeholder(o)}`.length));
  return [`tessera ${command.path.join(' ')} — ${command.summary}`, '', `usage: ${command.usage}`, '', 'options:', ...entries.map(([name, o]) => optionLine(name, o, width))].join('\n');
}

/** The value of a string option the table marks required (parse has checked it is there). */
export function required(values: Values, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export const text = (values: Values, name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
export const texts = (values: Values, name: string): string[] => (Array.isArray(values[name]) ? (values[name] as string[]) : []);

/** Splits a comma- or space-separated option into its values. */
export const list = (v: unknown) => (typeof v === 'string' ? v.split(/[,\s]+/).filter(Boolean) : []);

/** A JSON option, parsed, or a usage error naming the option and showing an example. */
export function jsonOption(values: Values, name: string, example: string): unknown {
  const v = text(values, name);
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    throw new UsageError(`--${name} must be JSON, such as ${example}`);
  }
}
