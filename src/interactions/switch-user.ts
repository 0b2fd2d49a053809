import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';

type Interaction = { session?: { cookie?: string; uid?: string }; result?: InteractionResults; save(ttl: number): Promise<string>; exp: number };

/**
 * "Not you?": the account is signed out of this browser session (the session keeps its identity, so
 * the interaction still belongs to it), and what this interaction had gathered (the sign-in, an
 * organization choice) is dropped. Resuming the request then finds nobody signed in and asks for a
 * sign-in again, with the same application and parameters.
 */
export async function endSignIn(provider: Provider, interaction: Interaction): Promise<void> {
  const session = interaction.session?.cookie ? await provider.Session.find(interaction.session.cookie) : undefined;
  if (session) {
    for (const field of ['accountId', 'loginTs', 'amr', 'acr', 'transient'] as const) delete (session as unknown as Record<string, unknown>)[field];
    session.authorizations = {};
    await session.persist();
  }
  interaction.result = undefined;
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
}
