// Issue 16 part 2(e): "an admin API key expires soon". The hourly cleanup cron mails the admin
// who created a key that expires within 7 days, once; the mail goes through the tenant's SMTP
// server (the loopback catcher, tests/e2e/lib/mail.mjs) and its link opens the admin console's
// API keys in Chromium, where the signed-in admin sees the key. Screenshots go to
// tests/output/key-expiry/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant, operator, runScheduled } from './lib/env.mjs';
import { adminApi } from './lib/person.mjs';
import { pageWithAuthenticator, screenshots, signUpInBrowser } from './lib/browser.mjs';
import { withCatcherAndBrowser, catcher, browser } from './lib/mail.mjs';

const CLEANUP_CRON = '17 * * * *';
const DAY = 86400;
const shot = screenshots('key-expiry');
withCatcherAndBrowser();

/** `YYYY-MM-DD HH:MM UTC`, as the mail writes a time. */
const utc = (secs) => {
  const iso = new Date(secs * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
};

test('a key that expires within 7 days is announced once to the admin who made it; the link shows it in the console', async () => {
  const tenant = await createTenant('keyexp', 'Key Expiry Inc');
  const base = tenant.issuer;
  const setup = await operator('POST', `/tenants/${tenant.slug}/api-keys`, { name: 'setup' });
  assert.equal(setup.status, 201, setup.text);
  const apiKey = setup.json.api_key;
  const settings = await adminApi(base, apiKey, 'PUT', '/api/application-configuration',
    { smtp: catcher.smtpSettings(), accent_color: '#0a7f3f' });
  assert.equal(settings.status, 200, settings.text);

  const { context, page } = await pageWithAuthenticator(browser, { width: 1280, height: 900 });
  try {
    await signUpInBrowser(page, tenant.setup_url,
      { first: 'Ada', last: 'Lovelace', username: 'ada', email: 'ada@example.com' });
    // The admin mints keys through the admin API from the console's session (CSRF header).
    await page.goto(`${base}/admin`);
    const mint = (name, expiresAt) => page.evaluate(async ([name, expires_at]) => {
      const res = await fetch('/api/api-keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': document.querySelector('#console').dataset.csrf },
        body: JSON.stringify({ name, expires_at }),
      });
      return { status: res.status, body: await res.json() };
    }, [name, expiresAt]);
    const now = Math.floor(Date.now() / 1000);
    const first = await mint('deploy-bot', now + 3 * DAY);
    assert.equal(first.status, 201, JSON.stringify(first.body));

    let seen = catcher.received().length;
    await runScheduled(CLEANUP_CRON, Date.now());
    const mail = await catcher.mailAfter(seen, 'ada@example.com', (m) => m.subject.includes('deploy-bot'));
    assert.equal(mail.from[0].address, 'id@acme.test');
    assert.equal(mail.to[0].name, 'Ada Lovelace');
    for (const part of ['"deploy-bot"', utc(now + 3 * DAY), 'in 3 days', 'created by Ada Lovelace', 'POST /api/api-keys']) {
      assert.ok(mail.text.includes(part), `${part} in:\n${mail.text}`);
    }
    const link = mail.text.match(/https?:\/\/\S+\/admin#\/api-keys/)[0];
    assert.equal(link, `${base}/admin#/api-keys`, 'on the host the key was made on');
    assert.ok(mail.html.includes(`href="${link}"`), mail.html);
    assert.ok(mail.html.includes('#0a7f3f'), 'the tenant accent colour');
    const reader = await context.newPage();
    await reader.setContent(mail.html);
    await shot(reader, '0-the-mail');
    await reader.close();

    // The link, in the admin's browser: the key, with its expiry, in the console.
    await page.goto(`${base}/account`);
    await page.goto(link);
    const row = page.locator('tr', { hasText: 'deploy-bot' });
    await row.waitFor();
    const expires = await page.evaluate((s) => new Date(s * 1000).toLocaleString(), now + 3 * DAY);
    assert.equal((await row.locator('td').nth(2).textContent()).trim(), expires);
    await shot(page, '1-api-keys-from-the-mail');

    // Run again with a second expiring key: the next mail is for that key only (the first got
    // its one notice).
    const second = await mint('rotate-me', now + 5 * DAY);
    assert.equal(second.status, 201, JSON.stringify(second.body));
    seen = catcher.received().length;
    await runScheduled(CLEANUP_CRON, Date.now());
    await catcher.mailAfter(seen, 'ada@example.com', (m) => m.subject.includes('rotate-me'));
    await new Promise((r) => setTimeout(r, 1000));
    const after2 = catcher.received().slice(seen);
    assert.deepEqual(after2.map((m) => m.subject.match(/"([^"]+)"/)[1]), ['rotate-me']);
    assert.ok(after2[0].text.includes('in 5 days'), after2[0].text);

    // And a third run sends nothing at all.
    seen = catcher.received().length;
    await runScheduled(CLEANUP_CRON, Date.now());
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(catcher.received().length, seen, 'no second notice');

    // Every mail in the audit log.
    const sent = await adminApi(base, apiKey, 'GET', '/api/audit-logs?event=email_sent&limit=100');
    const kinds = sent.json.data.map((e) => (typeof e.details === 'string' ? JSON.parse(e.details) : e.details).kind);
    assert.deepEqual(kinds, ['api_key_expiring', 'api_key_expiring']);
  } finally {
    await context.close();
  }
});
