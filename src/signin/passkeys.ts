import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Amr } from './acr.ts';
import type { StoredPasskey } from './storage.ts';

/**
 * Passkeys (WebAuthn) through @simplewebauthn/server. The relying party is the issuer: its host is
 * the RP ID and its origin the only origin accepted. User verification (a PIN, a fingerprint) is
 * required, so a passkey is two factors on its own.
 */
export type RelyingParty = { id: string; origin: string; name: string };

export const relyingPartyOf = (issuer: string, name: string): RelyingParty => {
  const url = new URL(issuer);
  return { id: url.hostname, origin: url.origin, name };
};

/** RFC 8176: a key bound to one device is `hwk`, a synced one `swk`; `user` for the verification it required. */
export const passkeyAmr = (deviceType: string): Amr[] => [deviceType === 'singleDevice' ? 'hwk' : 'swk', 'user'];

export async function registrationOptions(rp: RelyingParty, user: { id: string; username: string; name?: string | null }, existing: StoredPasskey[]) {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.username,
    userDisplayName: user.name ?? user.username,
    userID: new TextEncoder().encode(user.id),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: p.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
}

/** The new credential when the browser's answer is right for this challenge; undefined otherwise. */
export async function verifyRegistration(rp: RelyingParty, challenge: string, response: unknown) {
  try {
    const result = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
    if (!result.verified) return undefined;
    const { credential, credentialDeviceType, credentialBackedUp } = result.registrationInfo;
    return {
      credential_id: credential.id,
      public_key: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports ?? [],
      device_type: credentialDeviceType,
      backed_up: credentialBackedUp,
    };
  } catch {
    // A malformed or forged answer: refused like a wrong one.
    return undefined;
  }
}

/** Options for an assertion: the user's own passkeys after a password, any discoverable one at sign-in. */
export function authenticationOptions(rp: RelyingParty, passkeys?: StoredPasskey[]) {
  return generateAuthenticationOptions({
    rpID: rp.id,
    userVerification: 'required',
    ...(passkeys ? { allowCredentials: passkeys.map((p) => ({ id: p.credential_id, transports: p.transports })) } : {}),
  });
}

/** The credential id an assertion names, to find the stored passkey by (before it is verified). */
export function credentialIdOf(response: unknown): string | undefined {
  const id = (response as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

/** The new signature counter when the assertion is right for this challenge and passkey; undefined otherwise. */
export async function verifyAssertion(rp: RelyingParty, challenge: string, response: unknown, passkey: StoredPasskey): Promise<number | undefined> {
  try {
    const result = await verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: passkey.credential_id, publicKey: Buffer.from(passkey.public_key, 'base64url'), counter: passkey.counter, transports: passkey.transports as never },
      requireUserVerification: true,
    });
    return result.verified ? result.authenticationInfo.newCounter : undefined;
  } catch {
    return undefined;
  }
}
