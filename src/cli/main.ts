import { ZodError } from 'zod';
import { commands } from './commands.ts';
import { helpText, parse, suggest, UsageError, type Io } from './command.ts';
import { loadSettings, SettingsError } from '../config.ts';
import { describeStartFailure } from '../start-failure.ts';
import { Conflict, NotFound } from '../errors.ts';
import { DataDirInUse } from '../db/data-dir-lock.ts';

const stdio: Io = { out: (t) => process.stdout.write(t + '\n'), err: (t) => process.stderr.write(t + '\n') };

function overview(): string {
  return ['usage: tessera <command> [options]', '', 'commands:', ...commands.map((c) => `  ${c.path.join(' ').padEnd(22)} ${c.summary}`), '', 'Each command takes --help.'].join('\n');
}

/** The commands under `words` (`user` -> user add), for `tessera user --help`. */
function group(argv: string[]) {
  const words = argv.slice(0, argv.findIndex((a) => a.startsWith('-')) === -1 ? argv.length : argv.findIndex((a) => a.startsWith('-')));
  const under = commands.filter((c) => words.length > 0 && words.length < c.path.length && words.every((w, i) => c.path[i] === w));
  return { words, under };
}

/** Runs a CLI command; returns the exit code. Known failures print one clear line, never a stack. */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const command = [...commands].sort((a, b) => b.path.length - a.path.length).find((c) => c.path.every((word, i) => argv[i] === word));
  if (!command) {
    const wanted = argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help';
    if (wanted) {
      io.out(overview());
      return 0;
    }
    const { words, under } = group(argv);
    if (under.length) {
      const list = ['commands:', ...under.map((c) => `  ${c.path.join(' ').padEnd(22)} ${c.summary}`), '', 'Each command takes --help.'].join('\n');
      const rest = argv.slice(words.length);
      const usage = `usage: tessera ${words.join(' ')} <command> [options]\n\n${list}`;
      if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
        io.out(usage);
        return 0;
      }
      if (rest.length === 0) {
        io.err(`tessera ${words.join(' ')} needs a command\n\n${usage}`);
        return 2;
      }
    }
    const guess = suggest(argv.filter((a) => !a.startsWith('-')).join(' '), commands.map((c) => c.path.join(' ')));
    io.err(`unknown command: ${argv.join(' ')}${guess ? `; did you mean tessera ${guess}?` : ''}\n\n${overview()}`);
    return 2;
  }
  try {
    const { values, positionals } = parse(command, argv.slice(command.path.length));
    if (values.help) {
      io.out(helpText(command));
      return 0;
    }
    return await command.run(values, positionals, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${helpText(command)}`);
      return 2;
    }
    if (err instanceof ZodError) {
      io.err(`invalid input:\n${err.issues.map((i) => `  ${i.path.join('.') || '(value)'}: ${i.message}`).join('\n')}`);
      return 2;
    }
    if (err instanceof SettingsError || err instanceof Conflict || err instanceof NotFound || err instanceof DataDirInUse) {
      io.err(err.message);
      return 1;
    }
    // Anything else is still one line (the database or the port, said plainly when recognised);
    // the stack only at TESSERA_LOG_LEVEL=debug.
    io.err(explain(err, command.path.join(' ')));
    if (process.env.TESSERA_LOG_LEVEL === 'debug' && err instanceof Error && err.stack) io.err(err.stack);
    return 1;
  }
}

function explain(err: unknown, command: string): string {
  let known: string | undefined;
  try {
    known = describeStartFailure(err, loadSettings());
  } catch {
    known = undefined;
  }
  const message = err instanceof Error ? err.message : String(err);
  return known ?? `tessera ${command} failed: ${message.split('\n')[0]}`;
}
