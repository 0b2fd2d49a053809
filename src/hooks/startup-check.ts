/**
 * The global payload hook, checked when the server starts rather than at the first token: a module
 * that is not there stops the start (every token would fail, or silently lack its claims); a webhook
 * host that does not resolve is only a warning, since DNS may come up after Tessera does.
 */
import { existsSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import path from 'node:path';
import { SettingsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isWebhook, type PayloadHookConfig } from './config.ts';
import { resolveHookModule } from './module.ts';

const DNS_WAIT_MS = 3000;

/** How the start log names the active global hook: the module path, or the URL without query. */
export function describeHook(hook: PayloadHookConfig | undefined): string {
  if (!hook) return 'none';
  if (!isWebhook(hook)) return `module ${hook.module}`;
  const u = new URL(hook.url);
  return `webhook ${u.origin}${u.pathname}`;
}

export async function checkGlobalHook(hook: PayloadHookConfig | undefined, hooksDir: string, log: Logger): Promise<void> {
  if (!hook) return;
  if (!isWebhook(hook)) {
    const where = resolveHookModule(hooksDir, hook.module);
    if (!where.ok) throw new SettingsError(`TESSERA_PAYLOAD_HOOK=${hook.module}: ${where.detail}`);
    if (!existsSync(where.file)) {
      throw new SettingsError(`TESSERA_PAYLOAD_HOOK=${hook.module}: no such file ${where.file} (module paths are relative to TESSERA_HOOKS_DIR, ${path.resolve(hooksDir)})`);
    }
    return;
  }
  const host = new URL(hook.url).hostname.replace(/^\[|\]$/g, '');
  let timer: NodeJS.Timeout | undefined;
  const reason = await Promise.race([
    lookup(host).then(
      () => undefined,
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    ),
    new Promise<string>((resolve) => (timer = setTimeout(resolve, DNS_WAIT_MS, `no answer within ${DNS_WAIT_MS} ms`))),
  ]).finally(() => clearTimeout(timer));
  if (reason) log.warn(`the payload hook host ${host} does not resolve (${reason}); tokens will follow the hook's failure policy until it does`, { hook: describeHook(hook), failure: hook.failure });
}
