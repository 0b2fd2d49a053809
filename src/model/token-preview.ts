import { z } from 'zod';

/** POST /admin/v1/token-preview. */
export const TokenPreviewInput = z.strictObject({
  client_id: z.string().min(1),
  user_id: z.uuid().optional(),
  scope: z.string().max(8192),
  organization: z.string().optional(),
  resource: z.url().optional(),
});
