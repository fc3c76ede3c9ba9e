// Issue 16 (parts 1 and 2a): email over SMTP from the Worker's TCP socket to a real SMTP server on
// loopback (aiosmtpd, tests/e2e/lib/mail_catcher.py), the admin's test email, and signing in
// with an emailed one-time code, ending with a passkey registered in Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant } from './lib/env.mjs';
import { Person, tenantWithAdmin, adminApi } from './lib/person.mjs';
import { pageWithAuthenticator, screenshots, signUpInBrowser } from './lib/browser.mjs';
import { withCatcherAndBrowser, catcher, browser, freePort, until, auditEvents, form } from './lib/mail.mjs';

const shot = screenshots('email');

withCatcherAndBrowser();

/** Every message received so far, parsed by Python's email package. */
const received = () => catcher.received();
const mailTo = (address, pred, timeoutMs) => catcher.mailTo(address, pred, timeoutMs);

const codeOf = (mail) => mail.text.match(/\b(\d{6})\b/)[1];

/** The catcher's SMTP settings, or the same on another `port` (a dead one, say). */
const smtpSettings = (port = catcher.port, extra = {}) => catcher.smtpSettings({ port, ...extra });

/** A tenant with an admin (ada@example.com), its SMTP server the catcher, email codes on. */
async function emailTenant(prefix) {
  const t = await tenantWithAdmin(createTenant, prefix);
  const res = await adminApi(t.base, t.apiKey, 'PUT', '/api/application-configuration',
    { smtp: smtpSettings(), email_sign_in_codes: true });
  assert.equal(res.status, 200, res.text);
  return t;
}

/** The hidden `pending` value of the code form in an HTML page. */
const pendingIn = (html) => html.match(/name="pending" value="([^"]+)"/)?.[1];

test('settings: the SMTP password is sealed and never returned; header injection is refused', async () => {
  const { base, apiKey } = await tenantWithAdmin(createTenant, 'mailcfg');
  const put = await adminApi(base, apiKey, 'PUT', '/api/application-configuration', {
    smtp: { host: 'smtp.provider.test', from_address: 'id@acme.test', username: 'mailer', password: 'hunter2-secret' },
  });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.settings.smtp.password_set, true);
  assert.equal(put.json.settings.smtp.port, 587);
  assert.equal(put.json.settings.smtp.tls, 'start_tls');
  const get = await adminApi(base, apiKey, 'GET', '/api/application-configuration');
  assert.equal(get.json.settings.smtp.password_set, true);
  for (const text of [put.text, get.text]) {
    assert.ok(!text.includes('hunter2-secret'));
    assert.ok(!text.includes('password_sealed'));
  }
  // Another host without the password again: the old one is not carried to it.
  const moved = await adminApi(base, apiKey, 'PUT', '/api/application-configuration', {
    smtp: { host: 'smtp.elsewhere.test', from_address: 'id@acme.test', username: 'mailer' },
  });
  assert.equal(moved.json.settings.smtp.password_set, false);
  for (const [smtp, field] of [
    [{ host: 'smtp.test\r\nRCPT TO:<eve@evil.test>', from_address: 'id@acme.test' }, 'smtp.host'],
    [{ host: 'smtp.test', from_address: 'id@acme.test\r\nBcc: eve@evil.test' }, 'smtp.from_address'],
    [{ host: 'smtp.test', from_address: 'id@acme.test', from_name: 'Acme\r\nBcc: eve@evil.test' }, 'smtp.from_name'],
  ]) {
    const res = await adminApi(base, apiKey, 'PUT', '/api/application-configuration', { smtp });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.field, field, res.text);
  }
});

test('the test email reaches the SMTP server, and refusals and a dead server are reported', async () => {
  const { base, apiKey, tenant } = await emailTenant('mailtest');
  const sent = await adminApi(base, apiKey, 'POST', '/api/application-configuration/test-email', { to: 'grace@example.com' });
  assert.equal(sent.status, 200, sent.text);
  assert.equal(sent.json.sent, true);
  const mail = await mailTo('grace@example.com');
  assert.equal(mail.mail_from, 'id@acme.test');
  assert.equal(mail.subject, `Test email from Tenant mailtest`);
  assert.deepEqual(mail.from, [{ name: 'Acme ID', address: 'id@acme.test' }]);
  assert.equal(mail.content_type, 'multipart/alternative');
  assert.ok(mail.html.includes(`${tenant.issuer}/admin`), 'links on the tenant host');
  assert.ok(mail.text.includes('can send email'));

  // The server refuses the recipient: the stage and the SMTP code come back, and are audited.
  const refused = await adminApi(base, apiKey, 'POST', '/api/application-configuration/test-email', { to: 'refuse-me@example.com' });
  assert.equal(refused.status, 502, refused.text);
  assert.equal(refused.json.sent, false);
  assert.equal(refused.json.failure.stage, 'rcpt_to');
  assert.equal(refused.json.failure.code, 550);

  // Nobody listens: a connect failure, with a clear message.
  const dead = await freePort();
  await adminApi(base, apiKey, 'PUT', '/api/application-configuration', { smtp: smtpSettings(dead) });
  const down = await adminApi(base, apiKey, 'POST', '/api/application-configuration/test-email', { to: 'grace@example.com' });
  assert.equal(down.status, 502, down.text);
  assert.equal(down.json.failure.stage, 'connect');
  assert.match(down.json.message, /connect/);
  const failed = await auditEvents(base, apiKey, 'email_failed');
  assert.deepEqual(failed.map((e) => e.details.stage).sort(), ['connect', 'rcpt_to']);
  assert.equal((await auditEvents(base, apiKey, 'email_sent')).length, 1);
});

test('email sign-in code: same answer for any address, wrong code, other browser, too many attempts, sign-in', async () => {
  const { base, apiKey } = await emailTenant('mailcode');
  const ada = new Person(base);
  const page = await ada.fetch('/login/email');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Sign in with an email code/);

  const ask = async (who, email) => {
    const res = await who.fetch('/login/email', form({ email, next: '/account' }));
    assert.equal(res.status, 200);
    return res.text();
  };
  const known = await ask(ada, 'ada@example.com');
  const stranger = new Person(base);
  const unknown = await ask(stranger, 'nobody@example.com');
  // The same page, but for the address shown and the sealed value.
  const normalise = (html) => html.replace(/name="pending" value="[^"]+"/, '').replace(/(ada|nobody)@example\.com/g, 'X');
  assert.equal(normalise(known), normalise(unknown));
  assert.match(known, /If an account of .* has the address/);
  const mail = await mailTo('ada@example.com');
  const code = codeOf(mail);
  assert.deepEqual(mail.to, [{ name: 'Ada Lovelace', address: 'ada@example.com' }]);
  assert.ok(mail.html.includes(`${base}/login/email`));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(received().filter((m) => m.rcpt_tos.includes('nobody@example.com')).length, 0);

  const pending = pendingIn(known);
  const tryCode = (who, value, p = pending) => who.fetch('/login/email/code', form({ pending: p, code: value, next: '/account' }));
  // A wrong code.
  const wrong = await tryCode(ada, code === '000000' ? '111111' : '000000');
  assert.equal(wrong.status, 400);
  assert.match(await wrong.text(), /not right/);
  // The right code in another browser (the sealed value and the code copied over): refused.
  const thief = new Person(base);
  const stolen = await tryCode(thief, code);
  assert.equal(stolen.status, 400);
  assert.match(await stolen.text(), /another browser/);
  // The right code in the browser that asked: signed in, asked to add a passkey.
  const ok = await tryCode(ada, code);
  assert.equal(ok.status, 200);
  const okPage = await ok.text();
  assert.match(okPage, /You're signed in/);
  assert.match(okPage, /id="add-passkey"/);
  const account = await ada.fetch('/account');
  assert.equal(account.status, 200);
  assert.match(await account.text(), /id="display-name">Ada Lovelace</);
  // Once only.
  const again = await tryCode(ada, code);
  assert.equal(again.status, 400);

  // Too many attempts: five wrong codes spend the code, the right one is refused after.
  const bob = new Person(base);
  const second = pendingIn(await ask(bob, 'ada@example.com'));
  const secondCode = codeOf(await mailTo('ada@example.com', (m) => codeOf(m) !== code));
  const wrongCode = secondCode === '123456' ? '654321' : '123456';
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await (await tryCode(bob, wrongCode, second)).text());
  assert.match(answers[3], /not right/);
  assert.match(answers[4], /Too many wrong codes/);
  assert.match(await (await tryCode(bob, secondCode, second)).text(), /Too many wrong codes/);
  // An address without an account answers exactly alike, attempts included.
  const strangerPending = pendingIn(unknown);
  const strangerAnswers = [];
  for (let i = 0; i < 5; i++) strangerAnswers.push(await (await tryCode(stranger, wrongCode, strangerPending)).text());
  assert.match(strangerAnswers[3], /not right/);
  assert.match(strangerAnswers[4], /Too many wrong codes/);

  // A line break in the address cannot add a recipient or a header: the form refuses it.
  const injected = await ada.fetch('/login/email', form({ email: 'ada@example.com\r\nBcc: eve@evil.test', next: '/account' }));
  assert.equal(injected.status, 200);
  const refusedPage = await injected.text();
  assert.match(refusedPage, /role="alert">must not contain control/);
  assert.ok(!refusedPage.includes('email-code-form'), 'no code was asked for');
  assert.ok(received().every((m) => m.bcc === null && !m.rcpt_tos.includes('eve@evil.test')));

  const events = (await auditEvents(base, apiKey, 'sign_in')).filter((e) => e.details.method === 'email_code');
  assert.equal(events.length, 1);
  const failures = (await auditEvents(base, apiKey, 'sign_in_failed')).map((e) => e.details.reason);
  for (const reason of ['wrong_code', 'not_this_browser_or_expired', 'code_used', 'too_many_attempts']) {
    assert.ok(failures.includes(reason), `${reason} in ${failures}`);
  }
});

test('a dead SMTP server: the person sees the same answer, the failure is in the audit log', async () => {
  const { base, apiKey } = await emailTenant('maildown');
  const dead = await freePort();
  await adminApi(base, apiKey, 'PUT', '/api/application-configuration', { smtp: smtpSettings(dead) });
  const ada = new Person(base);
  const res = await ada.fetch('/login/email', form({ email: 'ada@example.com', next: '/account' }));
  assert.equal(res.status, 200);
  assert.match(await res.text(), /Check your email/);
  const failed = await until(async () => (await auditEvents(base, apiKey, 'email_failed'))[0]);
  assert.equal(failed.details.stage, 'connect');
  assert.equal(failed.details.kind, 'sign_in_code');
  assert.ok(!JSON.stringify(failed).includes('password'));
});

test('in Chromium: email code, signed in, then a passkey on this device', async () => {
  const { base } = await emailTenant('mailweb');
  const { context, page, cdp, authenticatorId } = await pageWithAuthenticator(browser);
  try {
    await page.goto(`${base}/login/email`);
    await shot(page, '1-ask');
    await page.fill('#email', 'ada@example.com');
    const before = received().length;
    await page.click('#email-request-submit');
    await page.waitForSelector('#email-code-form');
    await shot(page, '2-enter-code');
    const mail = await mailTo('ada@example.com', () => received().length > before);
    await page.fill('#code', codeOf(mail));
    await page.click('#email-code-submit');
    await page.waitForSelector('#add-passkey');
    await shot(page, '3-signed-in-add-passkey');
    await page.click('#add-passkey');
    await page.waitForURL((u) => new URL(u).pathname === '/account');
    await shot(page, '4-account-with-new-passkey');
    assert.equal(await page.locator('#passkey-list li').count(), 2, 'the soft authenticator\'s and this device\'s');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
  } finally {
    await context.close();
  }
});

test('in Chromium: the admin console saves the SMTP server and sends the test email', async () => {
  const tenant = await createTenant('mailconsole', 'Mail Console Co');
  const { context, page } = await pageWithAuthenticator(browser, { width: 1280, height: 900 });
  try {
    await signUpInBrowser(page, tenant.setup_url, { first: 'Grace', last: 'Hopper', username: 'grace', email: 'grace@example.com' });
    await page.goto(`${tenant.issuer}/admin#/settings`);
    await page.waitForSelector('#email-form');
    await page.fill('#smtp_host', '127.0.0.1');
    await page.fill('#smtp_port', String(catcher.port));
    await page.selectOption('#smtp_tls', 'none');
    await page.fill('#smtp_from_address', 'id@console.test');
    await page.check('#email_sign_in_codes');
    await page.click('#email-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('Email settings saved'));
    await page.click('#send-test-email');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('Test email sent to grace@example.com'));
    await shot(page, '5-console-test-email-sent');
    const mail = await mailTo('grace@example.com', (m) => m.subject === 'Test email from Mail Console Co');
    assert.deepEqual(mail.from, [{ name: 'Mail Console Co', address: 'id@console.test' }]);
    // A dead server: the console shows the server's verdict.
    await page.fill('#smtp_port', String(await freePort()));
    await page.click('#email-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('Email settings saved'));
    await page.click('#send-test-email');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('was not sent'));
    assert.match(await page.textContent('#status'), /connect/);
    await shot(page, '6-console-test-email-failed');
  } finally {
    await context.close();
  }
});

test('in Chromium: an admin emails a sign-in link and an invitation; both are received and followed to a passkey', async () => {
  const { base, apiKey } = await emailTenant('mailadmin');
  const created = await adminApi(base, apiKey, 'POST', '/api/users', {
    username: 'grace', email: 'grace@example.com', first_name: 'Grace',
  });
  assert.equal(created.status, 201, created.text);
  const link = await adminApi(base, apiKey, 'POST', `/api/users/${created.json.id}/one-time-access-token`, { send_email: true });
  assert.equal(link.status, 201, link.text);
  assert.equal(link.json.email.sent, true, link.text);
  const linkMail = await mailTo('grace@example.com', (m) => m.subject.includes('sign-in link'));
  assert.ok(linkMail.text.includes(link.json.url), linkMail.text);
  assert.ok(linkMail.html.includes(link.json.url));

  const invite = await adminApi(base, apiKey, 'POST', '/api/signup-tokens', { email: 'alan@example.com', send_email: true });
  assert.equal(invite.status, 201, invite.text);
  assert.equal(invite.json.email.sent, true, invite.text);
  const inviteMail = await mailTo('alan@example.com', (m) => m.subject.includes('invited'));
  assert.ok(inviteMail.text.includes(invite.json.url), inviteMail.text);
  // Sending needs an address.
  const bad = await adminApi(base, apiKey, 'POST', '/api/signup-tokens', { send_email: true });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.field, 'email');

  const grace = await pageWithAuthenticator(browser);
  const alan = await pageWithAuthenticator(browser);
  try {
    // The link from the mail: a page with a button (mail scanners' GETs do not burn it).
    await grace.page.goto(linkMail.text.match(/https?:\/\/\S+\/login\/code\/\S+/)[0]);
    await grace.page.click('#one-time-login');
    await grace.page.waitForURL(/\/account\?add_passkey=1/);
    await grace.page.fill('#new-passkey-name', 'Work laptop');
    await grace.page.click('#add-passkey-here');
    await grace.page.waitForURL((u) => new URL(u).pathname === '/account' && !new URL(u).search.includes('add_passkey'));
    assert.deepEqual(await grace.page.locator('#passkey-list .pk-name').allTextContents(), ['Work laptop']);
    await shot(grace.page, '5-emailed-link-then-passkey');

    // The invitation from the mail, with the address prefilled.
    await alan.page.goto(inviteMail.text.match(/https?:\/\/\S+\/setup\/\S+/)[0]);
    assert.equal(await alan.page.inputValue('#email'), 'alan@example.com');
    await alan.page.fill('#first_name', 'Alan');
    await alan.page.fill('#username', 'alan');
    await alan.page.click('#setup-form button[type=submit]');
    await alan.page.waitForURL(/\/account/);
    assert.equal(await alan.page.locator('#passkey-list li').count(), 1);
    await shot(alan.page, '6-emailed-invitation-signed-up');
  } finally {
    await grace.context.close();
    await alan.context.close();
  }
  const sent = await auditEvents(base, apiKey, 'email_sent');
  assert.deepEqual(sent.map((e) => e.details.kind).sort(), ['invitation', 'login_link']);
});

test('email verification: the link mailed from the account page verifies the address once; tokens then say so', async () => {
  const { base, apiKey, admin } = await emailTenant('mailverify');
  const account = await (await admin.fetch('/account')).text();
  assert.match(account, /id="verify-email-form"/);
  const csrf = account.match(/id="verify-email-form"[\s\S]*?name="csrf_token" value="([^"]+)"/)[1];
  const before = received().length;
  const asked = await admin.fetch('/account/verify-email', form({ csrf_token: csrf }));
  assert.ok(asked.status < 400, `asked: ${asked.status}`);
  const mail = await mailTo('ada@example.com', (m) => received().length > before && /verif/i.test(m.subject));
  const link = mail.text.match(/https?:\/\/\S+\/verify-email\/\S+/)[0];
  const path = new URL(link).pathname;

  // Opening the link (a mail scanner's GET) spends nothing; the page's button does, once.
  const reader = new Person(base);
  const page = await (await reader.fetch(path)).text();
  assert.equal((await reader.fetch(path)).status, 200, 'a GET does not spend the link');
  const field = (n) => page.match(new RegExp(`name="${n}" value="([^"]+)"`))[1];
  const verify = () => reader.fetch('/verify-email', form({ token: field('token'), csrf_token: field('csrf_token') }));
  const done = await verify();
  assert.ok(done.status < 400, `verify: ${done.status}`);
  assert.ok((await verify()).status >= 400, 'a link verifies once');
  assert.equal((await reader.fetch(path)).status, 404);

  const users = await adminApi(base, apiKey, 'GET', '/api/users?search=ada');
  assert.equal(users.json.data[0].email_verified, true, JSON.stringify(users.json.data[0]));
  assert.doesNotMatch(await (await admin.fetch('/account')).text(), /id="verify-email-form"/);
  const events = (await auditEvents(base, apiKey, 'email_verified')).length;
  assert.equal(events, 1);
  reader.cleanup();
});
