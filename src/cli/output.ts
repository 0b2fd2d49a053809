import { UsageError } from './command.ts';

/** `--output`: what a command prints on stdout. JSON by default; `env`: `export NAME=value` lines for `eval "$(…)"`. */
export const outputOption = {
  output: { type: 'string', values: ['json', 'env'], description: 'json (default), or env: export lines to eval in a shell' },
} as const;

export type Output = 'json' | 'env';

export function outputOf(values: Record<string, unknown>): Output {
  const v = values.output ?? 'json';
  if (v !== 'json' && v !== 'env') throw new UsageError(`--output is json or env, not ${String(v)}`);
  return v;
}

/** Quoted for any POSIX shell, so `eval` sets exactly this value whatever it holds. */
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** One `export NAME='value'` line per defined value. */
export function envLines(values: Record<string, string | null | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`)
    .join('\n');
}
