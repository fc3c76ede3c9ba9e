// Mail delivery beyond the first attempt: a mail whose server said "try again later" waits in
// the MAILS queue and arrives on a later attempt; and Cloudflare Email Service (the send_email
// binding) as the deployment's default transport for tenants without their own SMTP server.
//
// The SMTP server is aiosmtpd on loopback (tests/e2e/lib/mail_catcher.py), which answers 451
// the first time for recipients whose local part starts with "tempfail". Cloudflare-sent mail
// is read back from wrangler dev's local Email Service simulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTenant, tfetch, PLATFORM } from './lib/env.mjs';
import { Person, tenantWithAdmin, adminApi } from './lib/person.mjs';
import { pageWithAuthenticator, screenshots } from './lib/browser.mjs';
import { withCatcherAndBrowser, catcher, browser, until, auditEvents, form, PYTHON, CATCHER } from './lib/mail.mjs';

const shot = screenshots('mail-delivery');

withCatcherAndBrowser();

test('a mail the server defers ("451 try again later") arrives on a later attempt from the queue, and its code signs in', async () => {
  const { base, apiKey } = await tenantWithAdmin(createTenant, 'mailretry');
  const settings = await adminApi(base, apiKey, 'PUT', '/api/application-configuration', {
    smtp: { host: '127.0.0.1', port: catcher.port, tls: 'none', from_address: 'id@acme.test' },
    email_sign_in_codes: true,
  });
  assert.equal(settings.status, 200, settings.text);
  const address = `tempfail-${Date.now()}@example.com`;
  const created = await adminApi(base, apiKey, 'POST', '/api/users', { username: 'tess', email: address, first_name: 'Tess' });
  assert.equal(created.status, 201, created.text);

  const tess = new Person(base);
  const asked = await tess.fetch('/login/email', form({ email: address, next: '/account' }));
  assert.equal(asked.status, 200);
  const pending = (await asked.text()).match(/name="pending" value="([^"]+)"/)[1];

  // The first attempt is deferred by the server, recorded, and queued for 5 s later.
  const failed = await until(async () => (await auditEvents(base, apiKey, 'email_failed'))[0], 20000, 'email_failed');
  assert.equal(failed.details.stage, 'rcpt_to');
  assert.equal(failed.details.smtp_code, 451);
  assert.equal(failed.details.attempt, 1);
  assert.equal(failed.details.retry_in, 5);
  assert.match(catcher.log, new RegExp(`deferred ${address}`));

  // The second attempt, from the queue, delivers it.
  const mail = await until(() => catcher.received().find((m) => m.rcpt_tos.includes(address)), 30000, 'the retried mail');
  const sent = await until(async () => (await auditEvents(base, apiKey, 'email_sent'))[0], 10000, 'email_sent');
  assert.equal(sent.details.attempt, 2);
  assert.equal(sent.details.kind, 'sign_in_code');
  const code = mail.text.match(/\b(\d{6})\b/)[1];
  const signedIn = await tess.fetch('/login/email/code', form({ pending, code, next: '/account' }));
  assert.equal(signedIn.status, 200);
  assert.match(await signedIn.text(), /You're signed in/);
});

test('a refused recipient (550) is final: recorded once, never retried', async () => {
  const { base, apiKey } = await tenantWithAdmin(createTenant, 'mailfinal');
  await adminApi(base, apiKey, 'PUT', '/api/application-configuration', {
    smtp: { host: '127.0.0.1', port: catcher.port, tls: 'none', from_address: 'id@acme.test' },
    email_sign_in_codes: true,
  });
  const address = `refuse-${Date.now()}@example.com`;
  await adminApi(base, apiKey, 'POST', '/api/users', { username: 'rex', email: address, first_name: 'Rex' });
  const rex = new Person(base);
  await rex.fetch('/login/email', form({ email: address, next: '/account' }));
  const failed = await until(async () => (await auditEvents(base, apiKey, 'email_failed'))[0], 20000, 'email_failed');
  assert.equal(failed.details.smtp_code, 550);
  assert.equal(failed.details.retry_in, null);
  // Longer than the first retry's delay: still one failure.
  await new Promise((r) => setTimeout(r, 7000));
  assert.equal((await auditEvents(base, apiKey, 'email_failed')).length, 1);
});

/** What wrangler dev's local Cloudflare Email Service simulator captured. */
async function cloudflareSent(query = '') {
  const res = await tfetch(`${PLATFORM}/cdn-cgi/local/explorer/api/local/email/sending${query}`);
  const text = await res.text();
  assert.equal(res.status, 200, `local email explorer: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text).result;
}

/**
 * The message Cloudflare Email Service was handed for `to` (waiting for it: the Worker may send
 * after its response), parsed by Python's email package like the SMTP catcher's.
 */
async function cloudflareMailTo(to, pred = () => true) {
  const listed = await until(async () => (await cloudflareSent()).find((m) => m.to.includes(to) && pred(m)), 15000, `Cloudflare mail to ${to}`);
  const detail = await cloudflareSent(`?email_id=${encodeURIComponent(listed.messageId)}`);
  assert.ok(detail.raw, 'the simulator keeps the raw message');
  const file = join(catcher.dir, `cf-${Date.now()}.eml`);
  writeFileSync(file, detail.raw);
  const parsed = execFileSync(PYTHON, [CATCHER, '--parse', file], { encoding: 'utf8' });
  return JSON.parse(parsed);
}

test('Cloudflare Email Service: a tenant without its own server sends through the send_email binding, and the mailed link signs in', async () => {
  const { base, apiKey } = await tenantWithAdmin(createTenant, 'mailcf');
  // The deployment's default here is Cloudflare (EMAIL_FROM with the EMAIL binding, see
  // scripts/e2e.sh); this tenant has no server of its own.
  const config = await adminApi(base, apiKey, 'GET', '/api/application-configuration');
  assert.equal(config.json.settings.smtp ?? null, null);

  const to = `cf-${Date.now()}@example.com`;
  const tested = await adminApi(base, apiKey, 'POST', '/api/application-configuration/test-email', { to });
  assert.equal(tested.status, 200, tested.text);
  assert.equal(tested.json.sent, true, tested.text);
  const testMail = await cloudflareMailTo(to);
  assert.deepEqual(testMail.from, [{ name: 'Tenant mailcf', address: 'id@mail.edge-id.test' }]);
  assert.match(testMail.subject, /Test email from Tenant mailcf/);
  assert.ok(testMail.text.includes('Tenant mailcf'), testMail.text);
  assert.ok(testMail.html.includes('Tenant mailcf'));
  const sentEvents = await auditEvents(base, apiKey, 'email_sent');
  assert.equal(sentEvents[0].details.server, 'cloudflare');

  // An admin mails a sign-in link through it; the person follows it in Chromium to a passkey.
  const address = `lin-${Date.now()}@example.com`;
  const created = await adminApi(base, apiKey, 'POST', '/api/users', { username: 'lin', email: address, first_name: 'Lin' });
  assert.equal(created.status, 201, created.text);
  const link = await adminApi(base, apiKey, 'POST', `/api/users/${created.json.id}/one-time-access-token`, { send_email: true });
  assert.equal(link.status, 201, link.text);
  assert.equal(link.json.email.sent, true, link.text);
  const linkMail = await cloudflareMailTo(address, (m) => m.subject.includes('sign-in link'));
  assert.ok(linkMail.text.includes(link.json.url), linkMail.text);
  const lin = await pageWithAuthenticator(browser);
  try {
    await lin.page.goto(linkMail.text.match(/https?:\/\/\S+\/login\/code\/\S+/)[0]);
    await lin.page.click('#one-time-login');
    await lin.page.waitForURL(/\/account\?add_passkey=1/);
    await lin.page.fill('#new-passkey-name', 'Phone');
    await lin.page.click('#add-passkey-here');
    await lin.page.waitForURL((u) => new URL(u).pathname === '/account' && !new URL(u).search.includes('add_passkey'));
    assert.deepEqual(await lin.page.locator('#passkey-list .pk-name').allTextContents(), ['Phone']);
    await shot(lin.page, '1-cloudflare-mailed-link-then-passkey');
  } finally {
    await lin.context.close();
  }
});
