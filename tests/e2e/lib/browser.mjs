// Headless Debian Chromium for the browser suites, with the DevTools virtual authenticator
// (a CTAP2 platform authenticator with user verification) so passkey ceremonies run for real.
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'output');

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A fresh browser profile (context) with its own virtual authenticator. */
export async function pageWithAuthenticator(browser, viewport = { width: 390, height: 844 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page, cdp, authenticatorId };
}

/** Saves full-page screenshots under tests/output/<suite>/. */
export function screenshots(suite) {
  const dir = join(OUTPUT, suite);
  mkdirSync(dir, { recursive: true });
  return (page, name) => page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Fills the setup/invite form and registers the passkey; lands on /account. */
export async function signUpInBrowser(page, url, { first, last, username, email }) {
  await page.goto(url);
  await page.fill('#first_name', first);
  if (last) await page.fill('#last_name', last);
  await page.fill('#username', username);
  await page.fill('#email', email);
  await page.click('#setup-form button[type=submit]');
  await page.waitForURL(/\/account/);
}
