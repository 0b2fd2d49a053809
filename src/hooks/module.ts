/**
 * Module hooks (SPEC 5): a file under the hooks directory whose default export is a (usually async)
 * function of the input. Each file is imported once; the call is bounded by the hook's timeout.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleHookConfig } from './config.ts';
import { hookModulePath } from './config.ts';
import type { HookInput } from './input.ts';
import { failed, toClaims, type CallResult } from './result.ts';

/** The second argument a module receives: aborted when Tessera stops waiting (timeout). */
export type HookContext = { signal: AbortSignal };
export type HookFunction = (input: HookInput, context: HookContext) => unknown;

type Loaded = { ok: true; fn: HookFunction } | { ok: false; detail: string };

/** Where `modulePath` lives, or an error when it is not a relative path inside `hooksDir`. */
export function resolveHookModule(hooksDir: string, modulePath: string): { ok: true; file: string } | { ok: false; detail: string } {
  const checked = hookModulePath.safeParse(modulePath);
  if (!checked.success) return { ok: false, detail: checked.error.issues[0]?.message ?? 'invalid module path' };
  const root = path.resolve(hooksDir);
  const file = path.resolve(root, modulePath);
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return { ok: false, detail: 'outside the hooks directory' };
  return { ok: true, file };
}

export function createModuleHooks(hooksDir: string) {
  const loaded = new Map<string, Promise<Loaded>>();

  async function importHook(file: string): Promise<Loaded> {
    try {
      const ns = (await import(pathToFileURL(file).href)) as { default?: unknown };
      if (typeof ns.default !== 'function') return { ok: false, detail: 'the default export is not a function' };
      return { ok: true, fn: ns.default as HookFunction };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return { ok: false, detail: e?.code === 'ERR_MODULE_NOT_FOUND' ? 'module not found' : String(e?.message ?? err).slice(0, 200) };
    }
  }

  /** Imports once; a failed import is forgotten so a fixed file is picked up by a later call. */
  function load(file: string): Promise<Loaded> {
    let p = loaded.get(file);
    if (!p) {
      loaded.set(file, (p = importHook(file)));
      void p.then((r) => {
        if (!r.ok) loaded.delete(file);
      });
    }
    return p;
  }

  /** Imports (once) and calls the module; never throws. The timeout covers the first import too. */
  async function call(config: Pick<ModuleHookConfig, 'module' | 'timeout_ms'>, input: HookInput): Promise<CallResult> {
    const where = resolveHookModule(hooksDir, config.module);
    if (!where.ok) return failed('bad_module', where.detail);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CallResult>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error('payload hook timeout'));
        resolve(failed('timeout'));
      }, config.timeout_ms);
    });
    const attempt = (async (): Promise<CallResult> => {
      const mod = await load(where.file);
      if (!mod.ok) return failed('bad_module', mod.detail);
      let value: unknown;
      try {
        // A copy, so a hook that mutates its argument cannot change what Tessera caches or logs.
        value = await mod.fn(structuredClone(input), { signal: controller.signal });
      } catch (err) {
        return failed('threw', err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : typeof err);
      }
      return toClaims(value);
    })();
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  return { call };
}

export type ModuleHooks = ReturnType<typeof createModuleHooks>;
