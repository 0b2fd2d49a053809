/**
 * Runs Tessera as a person would: `node bin/tessera.js <command>` in a child process, with the
 * environment from testEnv(). Every wait here is bounded, and every child can be killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/tessera.js');

/**
 * The child's environment: this process's (PATH, HOME...) without anything that would point the
 * child elsewhere than the test's database or make it think it runs under the test runner, plus `env`.
 */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(TESSERA_|DATABASE_URL$|PORT$|HOST$|ISSUER$|NODE_ENV$|NODE_TEST_CONTEXT$|NODE_OPTIONS$)/.test(k)),
  );
  return { ...inherited, ...env };
}

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** Runs one CLI command to completion; kills it and fails if it takes longer than `timeoutMs`. */
export function runCli(args: string[], env: Record<string, string>, options: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // Always close stdin, so a command that reads it never waits for a terminal.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command that must succeed and print JSON; the failure message carries what it printed. */
export async function cliJson<T = Record<string, unknown>>(args: string[], env: Record<string, string>, options: { input?: string } = {}): Promise<T> {
  const r = await runCli(args, env, options);
  if (r.code !== 0) throw new Error(`tessera ${args.join(' ')} exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export type ServerProcess = {
  child: ChildProcess;
  issuer: string;
  /** Where this process listens (differs from the issuer when instances share one). */
  url: string;
  /** Everything the child printed, for failure messages. */
  output(): string;
  /** What it printed on stdout alone. */
  stdout(): string;
  /** SIGTERM, then waits (bounded) for the exit; SIGKILLs and throws if it does not come. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits up to `ms` for the exit (however it comes); undefined if it did not come. */
  waitExit(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined>;
  /** Best effort, for after(): SIGKILL if still running, and wait a little for the exit. */
  kill(): Promise<void>;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `tessera start` in a child process; resolves once /readyz answers 200 (or fails, bounded). */
export async function startServerProcess(env: Record<string, string>, readyTimeoutMs = 60_000): Promise<ServerProcess> {
  const issuer = env.ISSUER!;
  const url = env.PORT ? `http://localhost:${env.PORT}` : issuer;
  const child = spawn(process.execPath, [BIN, 'start'], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => ((output += d), (stdout += d)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let done: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((r) => (done = r));
  child.once('error', () => {});

  // Resolves with the exit, or undefined after `ms`; the timer is cleared so it holds nothing open.
  const waitExit = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  const server: ServerProcess = {
    child,
    issuer,
    url,
    output: () => output,
    stdout: () => stdout,
    async stop(timeoutMs = 15_000) {
      if (done) return done;
      child.kill('SIGTERM');
      const result = await waitExit(timeoutMs);
      if (result) return result;
      child.kill('SIGKILL');
      await waitExit(5_000);
      throw new Error(`the server did not exit within ${timeoutMs} ms of SIGTERM\n${output}`);
    },
    waitExit,
    async kill() {
      if (done || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await waitExit(5_000);
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (done) throw new Error(`the server exited (${done.code ?? done.signal}) before it was ready\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return server;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  await server.kill();
  throw new Error(`the server was not ready within ${readyTimeoutMs} ms (${last})\n${output}`);
}
