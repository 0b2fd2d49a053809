import { parseArgs, type ParseArgsConfig } from 'node:util';

export type Io = { out: (text: string) => void; err: (text: string) => void };

export type Command = {
  /** The words that name it: ['org', 'member', 'add']. */
  path: string[];
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[], io: Io): Promise<number>;
};

export class UsageError extends Error {}

export function parse(command: Command, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function helpText(command: Command): string {
  const lines = Object.entries(command.options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`);
  return [`tessera ${command.path.join(' ')} — ${command.summary}`, '', `usage: ${command.usage}`, ...(lines.length ? ['', 'options:', ...lines] : []), '  --help'].join('\n');
}

export function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** Splits a comma- or space-separated option into its values. */
export const list = (v: unknown) => (typeof v === 'string' ? v.split(/[,\s]+/).filter(Boolean) : []);
