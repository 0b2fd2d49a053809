/**
 * An attacker's own authenticator, in plain Node (no browser): a P-256 key that answers WebAuthn
 * registration challenges with `none` attestation and the user-present and user-verified flags,
 * as any authenticator the attacker holds would. For the attack tests of the sign-in steps.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';

// CBOR (RFC 8949), just what an attestation object needs: maps, byte and text strings, small integers.
function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  const b = Buffer.alloc(3);
  b[0] = (major << 5) | 25;
  b.writeUInt16BE(n, 1);
  return b;
}
type Cbor = number | string | Buffer | Map<Cbor, Cbor>;
function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

/** The registration response (as the browser's PublicKeyCredential.toJSON()) to `challenge` for `origin`. */
export function attackerRegistration(challenge: string, origin: string) {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const credentialId = randomBytes(16);
  const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge, origin, crossOrigin: false }));
  const coseKey = new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(credentialId.length);
  const flags = 0x01 | 0x04 | 0x40; // user present, user verified, attested credential data
  const authData = Buffer.concat([createHash('sha256').update(new URL(origin).hostname).digest(), Buffer.from([flags]), Buffer.alloc(4), Buffer.alloc(16), idLength, credentialId, cbor(coseKey)]);
  const attestation = cbor(new Map<Cbor, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
  const id = credentialId.toString('base64url');
  return { id, rawId: id, type: 'public-key', response: { clientDataJSON: clientData.toString('base64url'), attestationObject: attestation.toString('base64url'), transports: ['internal'] }, clientExtensionResults: {}, authenticatorAttachment: 'platform' };
}

/** The WebAuthn options a page's passkey button carries (its data-options attribute), if any. */
export function passkeyOptionsOn(html: string): { challenge: string } | undefined {
  const m = /data-options="([^"]+)"/.exec(html);
  if (!m) return undefined;
  return JSON.parse(m[1]!.replace(/&quot;|&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as { challenge: string };
}
