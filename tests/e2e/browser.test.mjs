// Issue 3 in a real browser: Debian Chromium (headless) with the DevTools virtual authenticator.
// setup link -> register passkey -> account -> sign out -> usernameless sign-in -> account,
// and a passkey of tenant A is refused at tenant B. Screenshots go to tests/output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant } from './lib/env.mjs';
import { launch, pageWithAuthenticator as withAuthenticator, screenshots } from './lib/browser.mjs';

const shot = screenshots('browser');
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});
const pageWithAuthenticator = () => withAuthenticator(browser);

test('setup link -> passkey registration -> sign out -> usernameless sign-in -> account', async () => {
  const tenant = await createTenant('web', 'Acme Browser Co');
  const { context, page, cdp, authenticatorId } = await pageWithAuthenticator();
  try {
    await page.goto(tenant.setup_url);
    await shot(page, '1-setup');
    assert.match(await page.textContent('h1'), /Set up your admin account/);
    await page.fill('#first_name', 'Ada');
    await page.fill('#last_name', 'Lovelace');
    await page.fill('#username', 'ada');
    await page.fill('#email', 'ada@example.com');
    await page.click('#setup-form button[type=submit]');
    await page.waitForURL(/\/account/);
    await shot(page, '2-account-after-setup');
    assert.match(await page.textContent('h1'), /Hello, Ada Lovelace/);
    assert.equal(await page.locator('#passkey-list li').count(), 1);
    assert.ok(await page.isVisible('#second-passkey-nudge'));
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].rpId, `${tenant.slug}.localhost`);
    assert.ok(credentials[0].isResidentCredential);

    // The setup link worked once.
    const again = await page.goto(tenant.setup_url);
    assert.equal(again.status(), 404);

    // The modal (button) path: hide conditional mediation on this page so the virtual
    // authenticator does not complete an autofill request first (that path is checked below).
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await page.goto(`${tenant.issuer}/account`);
    await page.click('#sign-out');
    await page.waitForSelector('text=You are signed out');
    await shot(page, '3-signed-out');
    const afterLogout = await page.goto(`${tenant.issuer}/account`);
    assert.match(afterLogout.url(), /\/login\?next=\/account/);
    await shot(page, '4-login');

    await page.click('#passkey-login');
    await page.waitForURL((u) => new URL(u).pathname === "/account");
    await shot(page, '5-account-after-login');
    assert.match(await page.textContent('#profile-username'), /ada/);
    const { credentials: after } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.ok(after[0].signCount >= 1, 'the virtual authenticator signed');

    // "Add passkey" on the same authenticator is refused by excludeCredentials (the browser
    // reports InvalidStateError): one authenticator never holds two credentials for us.
    await page.click('#add-passkey');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('already registered'));
    assert.equal(await page.locator('#passkey-list li').count(), 1);
    await shot(page, '6-add-passkey-excluded');

  } finally {
    await context.close();
  }
});

test('a passkey registered on tenant A cannot sign in on tenant B', async () => {
  const a = await createTenant('web-a', 'Tenant A');
  const b = await createTenant('web-b', 'Tenant B');
  const { context, page, cdp, authenticatorId } = await pageWithAuthenticator();
  try {
    await page.goto(a.setup_url);
    await page.fill('#first_name', 'Grace');
    await page.fill('#username', 'grace');
    await page.fill('#email', 'grace@example.com');
    await page.click('#setup-form button[type=submit]');
    await page.waitForURL(/\/account/);

    // Tenant B is a different RP ID: the browser offers no credential, the sign-in fails.
    await page.goto(`${b.issuer}/login`);
    await page.click('#passkey-login');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('cancelled or timed out'), null, { timeout: 15000 });
    await shot(page, '7-tenant-b-refused');
    assert.match(page.url(), /\/login/);

    // Even a replay of A's credential id at B's API finds nothing: B has no such passkey.
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].rpId, `${a.slug}.localhost`);
  } finally {
    await context.close();
  }
});
