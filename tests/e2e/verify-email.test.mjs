// Issue 16 part 2(d) acted on in a browser: a signed-in person asks for the verification link
// on the account page, the mail reaches the loopback SMTP server (tests/e2e/lib/mail.mjs), and
// Chromium opens the link, presses the button, and the account page then says "Verified".
// (email.test.mjs follows the same link over plain HTTP for the rules: single use, GETs spend
// nothing.) Screenshots go to tests/output/verify-email/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant, operator } from './lib/env.mjs';
import { adminApi } from './lib/person.mjs';
import { pageWithAuthenticator, screenshots, signUpInBrowser } from './lib/browser.mjs';
import { withCatcherAndBrowser, catcher, browser } from './lib/mail.mjs';

const shot = screenshots('verify-email');
withCatcherAndBrowser();

test('a person verifies their address in the browser with the link mailed from the account page', async () => {
  const tenant = await createTenant('verify', 'Verify Inc');
  const base = tenant.issuer;
  const key = await operator('POST', `/tenants/${tenant.slug}/api-keys`, { name: 'setup' });
  assert.equal(key.status, 201, key.text);
  const settings = await adminApi(base, key.json.api_key, 'PUT', '/api/application-configuration',
    { smtp: catcher.smtpSettings() });
  assert.equal(settings.status, 200, settings.text);

  const { context, page } = await pageWithAuthenticator(browser);
  try {
    await signUpInBrowser(page, tenant.setup_url,
      { first: 'Ada', last: 'Lovelace', username: 'ada', email: 'ada@example.com' });
    await page.goto(`${base}/account`);
    assert.equal(await page.locator('#email-verified').count(), 0);
    await shot(page, '1-account-unverified');

    const seen = catcher.received().length;
    await page.click('#verify-email-form button[type=submit]');
    await page.getByText('Check your inbox').waitFor();
    await shot(page, '2-check-your-inbox');
    const mail = await catcher.mailAfter(seen, 'ada@example.com', (m) => /verify/i.test(m.subject));
    const link = mail.text.match(/https?:\/\/\S+\/verify-email\/\S+/)[0];
    assert.ok(link.startsWith(`${base}/verify-email/`), link);

    // The link opens a page with a button; only the button verifies.
    await page.goto(link);
    await shot(page, '3-verify-page');
    await page.click('#verify-email');
    await page.getByText('Email address verified').waitFor();
    await shot(page, '4-verified');

    await page.goto(`${base}/account`);
    assert.equal((await page.locator('#email-verified').textContent()).trim(), 'Verified');
    assert.equal(await page.locator('#verify-email-form').count(), 0, 'nothing more to verify');
    await shot(page, '5-account-verified');
  } finally {
    await context.close();
  }
});
