import type Provider from 'oidc-provider';
import { spendWhatIsPending } from '../storage/request-state.ts';

/**
 * The storage adapter spends a rotated refresh token together with storing its successor. Should a
 * request spend one without storing a successor (no such path in oidc-provider 9 with rotation
 * always on), the token is spent here, before the answer leaves.
 */
export function spendPendingTokens(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    await spendWhatIsPending(ctx);
  });
}
