import type { Messages } from './messages.ts';
import { en } from './en.ts';
import { fr } from './fr.ts';
import { de } from './de.ts';

export type { Messages };

/** The languages of the pages, by BCP 47 primary tag; the first is the fallback. Add a language here. */
export const LOCALES = { en, fr, de } satisfies Record<string, Messages>;
export type Locale = keyof typeof LOCALES;
export const DEFAULT_LOCALE: Locale = 'en';
export const SUPPORTED_LOCALES = Object.keys(LOCALES) as Locale[];
