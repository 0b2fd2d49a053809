import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { ACR, acrAskedFor, acrOf, amrOf, satisfies } from '../../src/signin/acr.ts';
import { acrFor, essentialAcrs, requestedAcr, requestWantsMfa, unattainableEssentialAcr } from '../../src/signin/policy.ts';
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from '../../src/signin/recovery-codes.ts';
import { checkTotp, newTotpSecret, normalizeTotp } from '../../src/signin/totp.ts';
import { codeCounterKeys, counterKeys, DEFAULT_LOGIN_LIMITS } from '../../src/auth/login-limits.ts';

test('amr and acr: two distinct methods make mfa; acr follows; a stronger acr satisfies a weaker one', () => {
  assert.deepEqual(amrOf(['pwd']), ['pwd']);
  assert.deepEqual(amrOf(['pwd', 'otp']), ['pwd', 'otp', 'mfa']);
  assert.deepEqual(amrOf(['pwd', 'pwd']), ['pwd'], 'the same method twice is one factor');
  assert.equal(acrOf(['pwd']), ACR.pwd);
  assert.equal(acrOf(['pwd', 'otp', 'mfa']), ACR.mfa);
  assert.equal(acrOf(amrOf(['pwd', 'hwk', 'user'])), ACR.phr, 'a passkey is phishing-resistant');
  assert.equal(acrOf(amrOf(['swk', 'user'])), ACR.phr);
  assert.ok(satisfies(ACR.mfa, ACR.pwd) && satisfies(ACR.mfa, ACR.mfa) && !satisfies(ACR.pwd, ACR.mfa) && !satisfies(undefined, ACR.pwd));
});

test('what a request asks: acr_values stronger than a password, or an essential acr without pwd', () => {
  assert.equal(acrAskedFor(undefined), undefined);
  assert.equal(acrAskedFor(ACR.mfa), ACR.mfa);
  assert.equal(acrAskedFor(`${ACR.phr} ${ACR.mfa}`), ACR.mfa);
  assert.equal(acrAskedFor(ACR.phr), ACR.phr);
  assert.equal(acrAskedFor(`${ACR.mfa} ${ACR.pwd}`), undefined, 'a password is among the acceptable values');
  assert.equal(acrAskedFor('urn:other'), undefined);
  const claims = (acr: unknown) => JSON.stringify({ id_token: { acr } });
  assert.deepEqual(essentialAcrs(claims({ essential: true, value: ACR.mfa })), [ACR.mfa]);
  assert.deepEqual(essentialAcrs(claims({ essential: true, values: [ACR.mfa, 3] })), [ACR.mfa]);
  assert.equal(essentialAcrs(claims({ values: [ACR.mfa] })), undefined, 'voluntary is not essential');
  assert.equal(essentialAcrs('not json'), undefined);
  assert.ok(requestWantsMfa({ claims: claims({ essential: true, value: ACR.mfa }) }));
  assert.ok(!requestWantsMfa({ claims: claims({ essential: true, values: [ACR.pwd, ACR.mfa] }) }));
  assert.ok(requestWantsMfa({ acr_values: ACR.mfa }));
  assert.ok(unattainableEssentialAcr({ claims: claims({ essential: true, value: 'urn:example:loa:4' }) }));
  assert.ok(!unattainableEssentialAcr({ claims: claims({ essential: true, value: ACR.phr }) }));
  assert.equal(requestedAcr({ acr_values: ACR.phr }), ACR.phr);
  assert.equal(requestedAcr({ acr_values: ACR.mfa, claims: claims({ essential: true, value: ACR.phr }) }), ACR.phr, 'the stronger of the two');
  // A passkey sign-in (phr) meets an essential mfa exactly as asked; without an essential request it says phr.
  assert.equal(acrFor(ACR.phr, { claims: claims({ essential: true, value: ACR.mfa }) }), ACR.mfa);
  assert.equal(acrFor(ACR.phr, {}), ACR.phr);
  assert.equal(acrFor(ACR.pwd, { claims: claims({ essential: true, value: ACR.mfa }) }), ACR.pwd, 'never claims more than was done');
});

test('recovery codes: ten distinct, typed in any case with or without the dash, hashed per user', () => {
  const codes = newRecoveryCodes();
  assert.equal(new Set(codes).size, 10);
  for (const c of codes) assert.match(c, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
  const typed = ` ${codes[0]!.toUpperCase().replace('-', ' ')} `;
  assert.equal(normalizeRecoveryCode(typed), codes[0]!.replace('-', ''));
  assert.equal(normalizeRecoveryCode('123456'), undefined);
  const n = normalizeRecoveryCode(codes[0]!)!;
  assert.notEqual(hashRecoveryCode('a', n), hashRecoveryCode('b', n));
  assert.ok(!hashRecoveryCode('a', n).includes(n));
});

test('TOTP: the right code passes once per period; a wrong or earlier code does not', async () => {
  const secret = newTotpSecret();
  const now = Math.floor(Date.now() / 1000);
  const code = await generate({ secret, epoch: now });
  const step = await checkTotp(secret, code, null);
  assert.equal(typeof step, 'number');
  assert.equal(await checkTotp(secret, code, step!), undefined, 'the same period again is refused');
  const wrong = code === '000000' ? '111111' : '000000';
  assert.equal(await checkTotp(secret, wrong, null), undefined);
  assert.equal(await checkTotp(secret, await generate({ secret, epoch: now - 600 }), null), undefined, 'ten minutes old');
  assert.equal(normalizeTotp('123 456'), '123456');
  assert.equal(normalizeTotp('12345'), undefined);
});

test('code attempts: counters of their own per user, the address counter shared with passwords', () => {
  const code = codeCounterKeys('6f1c0000-0000-4000-8000-000000000000', '192.0.2.1', DEFAULT_LOGIN_LIMITS);
  const password = counterKeys('alice', '192.0.2.1', DEFAULT_LOGIN_LIMITS);
  assert.deepEqual(code.map((k) => k.kind), ['user_ip', 'user', 'ip']);
  assert.equal(code[2]!.key, password.find((k) => k.kind === 'ip')!.key);
  assert.ok(!password.some((k) => k.key === code[0]!.key || k.key === code[1]!.key));
});

test('mail settings: both or neither, an smtp(s) URL and an address', async () => {
  const { loadSettings } = await import('../../src/config.ts');
  assert.equal(loadSettings({}).mail, undefined);
  assert.deepEqual(loadSettings({ TESSERA_SMTP_URL: 'smtp://mail.example:587', TESSERA_MAIL_FROM: 'Acme <id@acme.example>' }).mail, { url: 'smtp://mail.example:587', from: 'Acme <id@acme.example>' });
  assert.throws(() => loadSettings({ TESSERA_SMTP_URL: 'smtp://mail.example' }), /both TESSERA_SMTP_URL and TESSERA_MAIL_FROM/);
  assert.throws(() => loadSettings({ TESSERA_SMTP_URL: 'http://mail.example', TESSERA_MAIL_FROM: 'id@acme.example' }), /TESSERA_SMTP_URL/);
  assert.throws(() => loadSettings({ TESSERA_SMTP_URL: 'smtp://mail.example', TESSERA_MAIL_FROM: 'not an address' }), /TESSERA_MAIL_FROM/);
});
