import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptedLanguages, negotiateLocale } from '../../src/interactions/locales/negotiate.ts';
import { LOCALES } from '../../src/interactions/locales/index.ts';

test('ui_locales wins over Accept-Language, and its first supported tag wins', () => {
  assert.equal(negotiateLocale('fr', 'de, en'), 'fr');
  assert.equal(negotiateLocale('ja fr-CA de', 'en'), 'fr');
  assert.equal(negotiateLocale('de fr', 'fr'), 'de');
});

test('ui_locales naming only unsupported languages falls through to Accept-Language', () => {
  assert.equal(negotiateLocale('ja ko', 'fr-FR,fr;q=0.9'), 'fr');
});

test('Accept-Language is read by q-value, not by order', () => {
  assert.equal(negotiateLocale(undefined, 'en;q=0.5, fr;q=0.8'), 'fr');
  assert.equal(negotiateLocale(undefined, 'ja, de;q=0.4, fr;q=0.3'), 'de');
  assert.equal(negotiateLocale(undefined, 'fr;q=0, de;q=0.1'), 'de', 'q=0 means not this one');
  assert.equal(negotiateLocale(undefined, 'FR-be'), 'fr', 'tags are matched without regard to case or region');
  assert.deepEqual(acceptedLanguages('a;q=0.5, b, c;q=0.9, d;q=x'), ['b', 'c', 'a']);
});

test('with nothing supported, or nothing asked, the pages are in English', () => {
  assert.equal(negotiateLocale(undefined, undefined), 'en');
  assert.equal(negotiateLocale('', ''), 'en');
  assert.equal(negotiateLocale('ja', 'zh-CN, ko;q=0.8, *;q=0.1'), 'en');
});

test('every language has every text, and none is left empty', () => {
  const keys = Object.keys(LOCALES.en).sort();
  for (const [lang, messages] of Object.entries(LOCALES)) {
    assert.deepEqual(Object.keys(messages).sort(), keys, `${lang} has the same keys as en`);
    for (const [key, text] of Object.entries(messages)) assert.ok(String(text).trim(), `${lang}.${key} is not empty`);
  }
});
