import { ZodError } from 'zod';
import { commands } from './commands.ts';
import { helpText, parse, UsageError, type Io } from './command.ts';
import { SettingsError } from '../config.ts';
import { Conflict, NotFound } from '../errors.ts';
import { DataDirInUse } from '../db/data-dir-lock.ts';

const stdio: Io = { out: (t) => process.stdout.write(t + '\n'), err: (t) => process.stderr.write(t + '\n') };

function overview(): string {
  return ['usage: tessera <command> [options]', '', 'commands:', ...commands.map((c) => `  ${c.path.join(' ').padEnd(22)} ${c.summary}`), '', 'Each command takes --help.'].join('\n');
}

/** Runs a CLI command; returns the exit code. Known failures print one clear line, never a stack. */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const command = [...commands].sort((a, b) => b.path.length - a.path.length).find((c) => c.path.every((word, i) => argv[i] === word));
  if (!command) {
    const wanted = argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help';
    (wanted ? io.out : io.err)(wanted ? overview() : `unknown command: ${argv.join(' ')}\n\n${overview()}`);
    return wanted ? 0 : 2;
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
    throw err;
  }
}
