import { z } from 'zod';

export const NewResourceServer = z.strictObject({
  identifier: z.url(),
  name: z.string().max(200).optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope token')).default([]),
  access_token_format: z.enum(['jwt', 'opaque']).default('jwt'),
  access_token_ttl: z.number().int().min(60).max(86400).default(3600),
});
export type NewResourceServer = z.input<typeof NewResourceServer>;
export type ResourceServer = z.infer<typeof NewResourceServer> & { name: string | null };
