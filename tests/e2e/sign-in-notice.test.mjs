// Issue 16 part 2c: email on sign-in from a new device. A person turns the notices on in the
// account page (Chromium A); signing in again in A sends nothing; signing in from a second
// browser B (a fresh eid_browser, signed in with another device: approved from A) sends the
// notice, received by a real SMTP server on loopback (aiosmtpd) and parsed by Python's email
// package; its link opens the account page in A, whose recent activity shows the sign-in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant } from './lib/env.mjs';
import { tenantWithAdmin, adminApi } from './lib/person.mjs';
import { pageWithAuthenticator, screenshots, signUpInBrowser } from './lib/browser.mjs';
import { withCatcherAndBrowser, catcher, browser, until, auditEvents } from './lib/mail.mjs';

const shot = screenshots('sign-in-notice');
const NOTICE = /New sign-in to your .* account/;
/** How long a mail that should not come is waited for (it is sent right after the response). */
const QUIET_MS = 4000;

withCatcherAndBrowser();

/** The sign-in notices to `address` received so far. */
const noticesTo = (address) => catcher.received().filter((m) => m.rcpt_tos.includes(address) && NOTICE.test(m.subject));

test('in Chromium: notices turned on in A; A again sends nothing; B (approved from A) sends the notice, whose link opens the account page', async () => {
  const { base, apiKey } = await tenantWithAdmin(createTenant, 'notice');
  const smtp = { host: '127.0.0.1', port: catcher.port, tls: 'none', from_address: 'id@acme.test', from_name: 'Acme ID' };
  const configured = await adminApi(base, apiKey, 'PUT', '/api/application-configuration', { smtp });
  assert.equal(configured.status, 200, configured.text);
  const invite = await adminApi(base, apiKey, 'POST', '/api/signup-tokens', { email: 'grace@example.com' });
  assert.equal(invite.status, 201, invite.text);
  const address = 'grace@example.com';

  const a = await pageWithAuthenticator(browser, { width: 900, height: 1000 });
  const b = await pageWithAuthenticator(browser, { width: 900, height: 1000 });
  try {
    // A: sign up with a passkey, then turn the notices on (this browser becomes known).
    await signUpInBrowser(a.page, invite.json.url, { first: 'Grace', last: 'Hopper', username: 'grace', email: address });
    await a.page.goto(`${base}/account`);
    assert.match(await a.page.textContent('#sign-in-notices-status'), /Email me when my account is used to sign in on a new device/);
    await shot(a.page, '1-account-notices-off');
    await a.page.click('#sign-in-notices-toggle');
    await a.page.waitForURL((u) => new URL(u).pathname === '/account');
    assert.match(await a.page.textContent('#sign-in-notices-status'), /^On:/);
    await shot(a.page, '2-notices-on');
    const changed = await auditEvents(base, apiKey, 'sign_in_notices_changed');
    assert.deepEqual(changed.map((e) => e.details.on), [true]);

    // A again, with its passkey: a known browser, no notice.
    await a.page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await a.page.click('#sign-out');
    await a.page.waitForSelector('text=You are signed out');
    await a.page.goto(`${base}/login`);
    await a.page.click('#passkey-login');
    await a.page.waitForURL((u) => new URL(u).pathname === '/account');
    await shot(a.page, '3-signed-in-again-in-a');
    const passkeySignIns = (await auditEvents(base, apiKey, 'sign_in')).filter((e) => e.details.method === 'passkey');
    assert.equal(passkeySignIns.length, 1, 'A signed in again with its passkey');
    await new Promise((r) => setTimeout(r, QUIET_MS));
    assert.equal(noticesTo(address).length, 0, 'no notice for the browser the notices were turned on in');

    // B: a fresh browser signs in with another device, approved in A.
    await b.page.goto(`${base}/login/other-device`);
    const code = (await b.page.textContent('#other-device-code')).trim();
    await a.page.goto(`${base}/login/approve?code=${code}`);
    await a.page.click('#approve');
    await a.page.waitForSelector('text=Sign-in approved');
    await b.page.waitForURL(/\/account\?add_passkey=1/, { timeout: 15000 });
    assert.match(await b.page.textContent('h1'), /Hello, Grace Hopper/);
    await shot(b.page, '4-signed-in-in-b');

    // The notice, once: the only one received (A's sign-in above sent none).
    const mail = await until(() => noticesTo(address)[0]);
    assert.deepEqual(mail.to, [{ name: 'Grace Hopper', address }]);
    assert.deepEqual(mail.from, [{ name: 'Acme ID', address: 'id@acme.test' }]);
    assert.equal(mail.bcc, null);
    assert.equal(mail.content_type, 'multipart/alternative');
    for (const part of [mail.text, mail.html]) {
      assert.match(part, /Chrome on Linux/, 'the browser');
      assert.match(part, /approved on another device/, 'how');
      assert.match(part, /\d{4}-\d\d-\d\d \d\d:\d\d UTC/, 'when');
      assert.match(part, /If this wasn/);
      assert.match(part, /turned on sign-in notices/);
    }
    assert.ok(mail.text.includes(`${base}/account`), mail.text);
    assert.ok(mail.html.includes(`href="${base}/account"`), 'the button links to the account page on the tenant host');

    // B again: known now, no second notice.
    await b.page.goto(`${base}/account`);
    await b.page.click('#sign-out');
    await b.page.waitForSelector('text=You are signed out');
    await b.page.goto(`${base}/login/other-device`);
    const again = (await b.page.textContent('#other-device-code')).trim();
    await a.page.goto(`${base}/login/approve?code=${again}`);
    await a.page.click('#approve');
    await a.page.waitForSelector('text=Sign-in approved');
    await b.page.waitForURL(/\/account\?add_passkey=1/, { timeout: 15000 });
    await new Promise((r) => setTimeout(r, QUIET_MS));
    assert.equal(noticesTo(address).length, 1, 'B is known after its first sign-in');

    // The mail's link, followed in A: the account page, with the new sign-in and the mail in
    // the recent activity.
    const link = mail.text.match(/https?:\/\/\S+\/account\b/)[0];
    assert.equal(new URL(link).origin, base);
    await until(async () => {
      await a.page.goto(link);
      const activity = await a.page.textContent('#activity');
      return activity.includes('Emailed you about a sign-in from a new device') ? activity : null;
    });
    assert.match(await a.page.textContent('#activity'), /Signed in, approved on another device/);
    assert.match(await a.page.textContent('#activity'), /Turned sign-in notices on/);
    await shot(a.page, '5-account-from-the-mail');

    const sent = (await auditEvents(base, apiKey, 'email_sent')).filter((e) => e.details.kind === 'new_device_sign_in');
    assert.equal(sent.length, 1);

    // Turned off again from A.
    await a.page.click('#sign-in-notices-toggle');
    await a.page.waitForURL((u) => new URL(u).pathname === '/account');
    assert.match(await a.page.textContent('#sign-in-notices-status'), /Email me when/);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('the switch: a form with the CSRF token of the session, refused without it', async () => {
  const { base, apiKey, admin } = await tenantWithAdmin(createTenant, 'noticecsrf');
  // No usable mail server (this deployment's e2e default is Cloudflare Email, so the tenant's
  // own server wins: one with a username and no password cannot send): not offered.
  const unusable = await adminApi(base, apiKey, 'PUT', '/api/application-configuration', {
    smtp: { host: '127.0.0.1', port: catcher.port, tls: 'none', from_address: 'id@acme.test', username: 'mailer' },
  });
  assert.equal(unusable.json.settings.smtp.password_set, false);
  assert.doesNotMatch(await (await admin.fetch('/account')).text(), /id="sign-in-notices"/);
  const smtp = { host: '127.0.0.1', port: catcher.port, tls: 'none', from_address: 'id@acme.test' };
  await adminApi(base, apiKey, 'PUT', '/api/application-configuration', { smtp });
  const page = await (await admin.fetch('/account')).text();
  const csrf = page.match(/id="sign-in-notices-form"[\s\S]*?name="csrf_token" value="([^"]+)"/)[1];
  const post = (fields, extra = {}) => admin.fetch('/account/sign-in-notices', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra },
    body: new URLSearchParams(fields).toString(),
  });
  assert.equal((await post({ on: '1' })).status, 403, 'no CSRF token');
  assert.equal((await post({ on: '1', csrf_token: 'x' })).status, 403, 'a wrong CSRF token');
  assert.equal((await auditEvents(base, apiKey, 'sign_in_notices_changed')).length, 0);
  const done = await post({ on: '1', csrf_token: csrf });
  assert.equal(done.status, 302);
  assert.match(await (await admin.fetch('/account')).text(), /id="sign-in-notices-status">On:/);
});
