import type { Database } from './db/connect.ts';
import type { Settings } from './config.ts';
import type { Logger } from './log.ts';
import { SettingsError } from './config.ts';
import { countClients, generateSecret, upsertClient } from './storage/clients.ts';
import { ADMIN_SCOPES } from './claims/scopes.ts';

/**
 * The bootstrap admin client: from TESSERA_ADMIN_CLIENT_ID/SECRET it is created or brought up to date
 * at every start. Without them, the very first start (no client at all) generates one and prints its
 * secret once, to the terminal and not to the log; production refuses to do that.
 */
export async function ensureAdminClient(db: Database, settings: Settings, log: Logger, print: (text: string) => void): Promise<void> {
  const { id, secret } = settings.adminClient;
  if (id && secret) {
    await upsertClient(db, { client_id: id, client_name: 'Tessera admin', grant_types: ['client_credentials'], scope: ADMIN_SCOPES.join(' ') }, secret);
    log.info('admin client ready', { client_id: id });
    return;
  }
  if ((await countClients(db)) > 0) return;
  if (settings.production) {
    throw new SettingsError('NODE_ENV=production will not generate and print an admin secret: set TESSERA_ADMIN_CLIENT_ID and TESSERA_ADMIN_CLIENT_SECRET');
  }
  const generated = { id: 'tessera-admin', secret: generateSecret() };
  await upsertClient(db, { client_id: generated.id, client_name: 'Tessera admin', grant_types: ['client_credentials'], scope: ADMIN_SCOPES.join(' ') }, generated.secret);
  log.info('admin client generated', { client_id: generated.id });
  print(
    [
      '',
      'A bootstrap admin client was created. Its secret is shown this once: paste these lines into your shell, and keep them:',
      // Shell lines, so a person pastes them and the README's admin API snippets find the variables.
      `export TESSERA_ADMIN_CLIENT_ID=${generated.id}`,
      `export TESSERA_ADMIN_CLIENT_SECRET=${generated.secret}`,
      '',
    ].join('\n'),
  );
}
