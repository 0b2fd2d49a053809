import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (CI installs it); no tool downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/** The `skip` option of a browser test: false when Chromium is there, else why not. */
export const withoutChromium = existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install -y chromium`;

/** Headless Chromium that reaches nothing but what a test opens. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
