import { z } from 'zod';

/**
 * The JWS algorithms Tessera signs with: one per kind of stored key (storage/keys.ts). PS256 is not
 * offered: the RSA key is published with `alg: RS256`, which binds it to that one algorithm
 * (RFC 7517 §4.4), and EdDSA has no key.
 */
export const SigningAlg = z.enum(['ES256', 'RS256']);
export type SigningAlg = z.infer<typeof SigningAlg>;
export const SIGNING_ALGS: SigningAlg[] = [...SigningAlg.options];
