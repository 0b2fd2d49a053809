/**
 * The servers under test, each in a child process of its own so the load generator never shares
 * their event loop. Every wait is bounded; every child is stopped (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type Child = { name: string; url: string; pid: number | undefined; output(): string; stop(): Promise<number | null> };

export { freePort } from '../test/support/server.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This process's environment without anything that would point a child at another database or port. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TESSERA_|DATABASE_URL$|PORT$|HOST$|ISSUER$|NODE_OPTIONS$)/.test(k)));
  return { ...inherited, ...env };
}

/** Starts `node <args>` and resolves once `url + readyPath` answers 200 (within `readyMs`). */
export async function startChild(name: string, args: string[], env: Record<string, string>, url: string, options: { readyPath?: string; readyMs?: number; nodeArgs?: string[]; cwd?: string } = {}): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], { cwd: options.cwd ?? ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: string) => {
    output += d;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  let exit: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exit = code))));
  child.once('error', () => {});

  const stop = async () => {
    if (exit !== undefined) return exit;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  const deadline = Date.now() + (options.readyMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`${name} exited (${exit}) before it was ready\n${output.slice(-4000)}`);
    try {
      const res = await fetch(url + (options.readyPath ?? '/readyz'), { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return { name, url, pid: child.pid, output: () => output, stop };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`${name} was not ready within ${options.readyMs ?? 60_000} ms\n${output.slice(-4000)}`);
}
