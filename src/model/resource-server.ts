import { z } from 'zod';
import { SigningAlg } from './signing-alg.ts';

export const NewResourceServer = z.strictObject({
  /** The RFC 8707 resource indicator clients send as `resource`: an absolute URI. */
  identifier: z.url(),
  /** What its tokens carry as `aud` (default: the identifier); may be a plain name such as `openfga`. */
  audience: z.string().trim().min(1).max(500).optional(),
  name: z.string().max(200).optional(),
  /** What its scopes give, in words, shown on the consent page after its name ("read your orders"). */
  description: z.string().trim().min(1).max(300).optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope token')).default([]),
  access_token_format: z.enum(['jwt', 'opaque']).default('jwt'),
  /** The algorithm of its JWT access tokens. */
  signing_alg: SigningAlg.default('ES256'),
  access_token_ttl: z.number().int().min(60).max(86400).default(3600),
});
export type NewResourceServer = z.input<typeof NewResourceServer>;
export type ResourceServer = Omit<z.infer<typeof NewResourceServer>, 'audience' | 'description'> & { audience: string; name: string | null; description: string | null };
