// Issue 16, parts 4 and 5: recovery codes and the way forward from the login page, through the
// real Worker. Plain HTTP for the rules (single use, tenant option, cross-site refusal, audit),
// then Chromium with a virtual authenticator for the person's whole path: make codes, lose the
// passkey, "Can't use your passkey?", sign in with a code, add a passkey by name, sign in with
// it. Screenshots go to tests/output/recovery/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant, tfetch } from './lib/env.mjs';
import { Person, tenantWithAdmin, adminApi } from './lib/person.mjs';
import { launch, pageWithAuthenticator, screenshots, signUpInBrowser } from './lib/browser.mjs';
import { createClient, login, tokenRequest, userinfo } from './lib/oidc.mjs';

const shot = screenshots('recovery');
let T; // { tenant, base, admin, apiKey }
let browser;
const people = [];

before(async () => {
  T = await tenantWithAdmin(createTenant, 'recov');
  browser = await launch();
});

after(async () => {
  T.admin.cleanup();
  for (const p of people) p.cleanup();
  await browser?.close();
});

function person() {
  const p = new Person(T.base);
  people.push(p);
  return p;
}

async function accountPage(p) {
  const res = await p.fetch('/account');
  assert.equal(res.status, 200);
  return res.text();
}

const csrfOf = (html) => html.match(/data-csrf="([^"]+)"/)[1];

async function makeCodes(p) {
  const csrf = csrfOf(await accountPage(p));
  const res = await p.fetch('/api/account/recovery-codes', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: '{}',
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

function useCode(p, code) {
  return p.fetch('/login/recovery', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, next: '/account' }),
  });
}

async function setRecoveryCodes(on) {
  const res = await adminApi(T.base, T.apiKey, 'PUT', '/api/application-configuration', { recovery_codes: on });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.settings.recovery_codes, on);
}

test('recovery codes are off by default: no form, no codes, help says to ask an admin', async () => {
  assert.equal((await tfetch(`${T.base}/login/recovery`)).status, 404);
  assert.equal((await makeCodes(T.admin)).status, 404);
  const help = await (await tfetch(`${T.base}/login/help`)).text();
  assert.match(help, /Can't use your passkey\?/);
  assert.match(help, /id="way-admin"/);
  assert.doesNotMatch(help, /id="way-recovery-code"/);
  assert.doesNotMatch(await accountPage(T.admin), /id="recovery-codes"/);
  // The login page always leads to the help page.
  assert.match(await (await tfetch(`${T.base}/login`)).text(), /href="\/login\/help\?next=%2Faccount"/);
});

test('each code signs in once, only same-origin, only on its tenant; a new set retires the old', async () => {
  await setRecoveryCodes(true);
  const made = await makeCodes(T.admin);
  assert.equal(made.status, 200);
  const codes = made.body.codes;
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  assert.match(await accountPage(T.admin), /10 of 10 unused/);

  const lost = person(); // a browser with no passkey and no session
  // A cross-site form post is refused before the code is looked at (and leaves it usable).
  const crossSite = await tfetch(`${T.base}/login/recovery`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example.com' },
    body: new URLSearchParams({ code: codes[0], next: '/account' }),
    redirect: 'manual',
  });
  assert.equal(crossSite.status, 403);
  // Malformed input is explained.
  const malformed = await useCode(lost, 'hunter2');
  assert.equal(malformed.status, 400);
  assert.match(await malformed.text(), /16 letters and digits/);

  // Typed loosely (lower case, spaces): still the code.
  const ok = await useCode(lost, codes[0].toLowerCase().replaceAll('-', ' '));
  assert.equal(ok.status, 302);
  assert.equal(ok.headers.get('location'), '/account?add_passkey=1&next=%2Faccount');
  const landing = await lost.fetch(ok.headers.get('location'));
  assert.equal(landing.status, 200);
  const page = await landing.text();
  assert.match(page, /id="add-passkey-first"/);
  assert.match(page, /id="display-name">Ada Lovelace</);
  assert.match(await accountPage(T.admin), /9 of 10 unused/);

  const reused = await useCode(person(), codes[0]);
  assert.equal(reused.status, 403);
  assert.match(await reused.text(), /doesn&#39;t work|doesn't work/);

  // Another tenant with recovery codes on does not know the code.
  const other = await tenantWithAdmin(createTenant, 'recov-other');
  try {
    await adminApi(other.base, other.apiKey, 'PUT', '/api/application-configuration', { recovery_codes: true });
    const stranger = new Person(other.base);
    people.push(stranger);
    assert.equal((await useCode(stranger, codes[1])).status, 403);
  } finally {
    other.admin.cleanup();
  }
  assert.equal((await useCode(person(), codes[1])).status, 302, 'the other tenant did not burn it');

  // A new set: the old codes stop working.
  const fresh = (await makeCodes(T.admin)).body.codes;
  assert.equal((await useCode(person(), codes[2])).status, 403);
  assert.equal((await useCode(person(), fresh[0])).status, 302);

  // The id_token of a recovery session would say otp; the audit log says what happened.
  const audit = await adminApi(T.base, T.apiKey, 'GET', '/api/audit-logs?limit=100');
  assert.equal(audit.status, 200, audit.text);
  const entries = audit.json.data.filter((e) => e.event.startsWith('recovery') || e.details.method === 'recovery_code');
  const counted = (event) => entries.filter((e) => e.event === event).length;
  assert.equal(counted('recovery_codes_created'), 2);
  assert.equal(counted('sign_in'), 3);
  // The reused code and the retired one; the other tenant's refusal is in its own log.
  assert.equal(counted('sign_in_failed'), 2, JSON.stringify(entries));
});

test('in Chromium: make codes, lose the passkey, sign in with a code, add a passkey by name', async () => {
  await setRecoveryCodes(true);
  const invite = await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens');
  assert.equal(invite.status, 201, invite.text);
  const first = await pageWithAuthenticator(browser);
  let codes;
  try {
    await signUpInBrowser(first.page, invite.json.url, { first: 'Grace', last: 'Hopper', username: 'grace', email: 'grace@example.com' });
    await first.page.click('#recovery-create');
    await first.page.waitForSelector('#recovery-new:not([hidden])');
    codes = await first.page.locator('#recovery-list li').allTextContents();
    assert.equal(codes.length, 10);
    await shot(first.page, '1-codes-made');
  } finally {
    await first.context.close(); // the device with the passkey is gone
  }

  const { context, page, cdp, authenticatorId } = await pageWithAuthenticator(browser);
  try {
    // No passkey here: the sign-in fails and the page points at the way out.
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await page.goto(`${T.base}/login`);
    await page.click('#passkey-login');
    await page.waitForSelector('.status[data-kind="error"]');
    assert.match(await page.textContent('.status[data-kind="error"]'), /Can’t use your passkey/);
    await shot(page, '2-login-failed');
    await page.click('#login-help');
    await page.waitForURL(/\/login\/help/);
    await shot(page, '3-help');
    await page.click('#way-recovery-code a');
    await page.waitForURL(/\/login\/recovery/);
    await page.fill('#code', 'AAAA-BBBB-CCCC-DDDD');
    await page.click('#recovery-sign-in');
    await page.waitForSelector('#recovery-error');
    await shot(page, '4-wrong-code');
    await page.fill('#code', codes[4]);
    await page.click('#recovery-sign-in');
    await page.waitForURL(/\/account\?add_passkey=1/);
    await shot(page, '5-add-passkey-first');
    assert.match(await page.textContent('h1'), /Hello, Grace Hopper/);
    await page.fill('#new-passkey-name', 'Recovered laptop');
    await page.click('#add-passkey-here');
    await page.waitForURL((u) => new URL(u).pathname === '/account' && !new URL(u).search.includes('add_passkey'));
    await shot(page, '6-passkey-added');
    const names = await page.locator('#passkey-list .pk-name').allTextContents();
    assert.ok(names.includes('Recovered laptop'), JSON.stringify(names));
    assert.match(await page.textContent('#recovery-status'), /9 of 10 unused/);

    // The new passkey signs in.
    await page.click('#sign-out');
    await page.waitForSelector('text=You are signed out');
    await page.goto(`${T.base}/login`);
    await page.click('#passkey-login');
    await page.waitForURL((u) => new URL(u).pathname === '/account');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
  } finally {
    await context.close();
  }
});

test('in Chromium: sign in with another device by its code, approved on the phone, then add a passkey', async () => {
  const invite = await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens');
  assert.equal(invite.status, 201, invite.text);
  const phone = await pageWithAuthenticator(browser);
  const laptop = await pageWithAuthenticator(browser, { width: 1100, height: 900 });
  try {
    await signUpInBrowser(phone.page, invite.json.url, { first: 'Alan', last: 'Turing', username: 'alan', email: 'alan@example.com' });

    await laptop.page.goto(`${T.base}/login/help`);
    await laptop.page.click('#way-other-device a');
    await laptop.page.waitForURL(/\/login\/other-device/);
    const code = (await laptop.page.textContent('#other-device-code')).trim();
    assert.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.ok(await laptop.page.isVisible('.qr svg'), 'a QR code of the approval link');
    await shot(laptop.page, '7-other-device-waiting');

    // The phone opens what the QR code holds, sees where the request comes from, approves.
    await phone.page.goto(`${T.base}/login/approve?code=${code}`);
    assert.match(await phone.page.textContent('#requester-browser'), /Chrome on Linux/);
    await shot(phone.page, '8-approve-on-phone');
    await phone.page.click('#approve');
    await phone.page.waitForSelector('text=Sign-in approved');

    // The laptop's page continues by itself, signed in as the phone's person.
    await laptop.page.waitForURL(/\/account\?add_passkey=1/, { timeout: 15000 });
    assert.match(await laptop.page.textContent('h1'), /Hello, Alan Turing/);
    await shot(laptop.page, '9-other-device-signed-in');
    await laptop.page.fill('#new-passkey-name', 'Laptop');
    await laptop.page.click('#add-passkey-here');
    await laptop.page.waitForURL((u) => new URL(u).pathname === '/account' && !new URL(u).search.includes('add_passkey'));
    const names = await laptop.page.locator('#passkey-list .pk-name').allTextContents();
    assert.ok(names.includes('Laptop'), JSON.stringify(names));

    // The approval was single use: the code no longer names anything.
    await phone.page.goto(`${T.base}/login/approve?code=${code}`);
    assert.ok(await phone.page.isVisible('#approve-error'));
  } finally {
    await phone.context.close();
    await laptop.context.close();
  }
});

test('another device: a denied request, a request polled from another browser, and sign-in required to approve', async () => {
  const waiting = person();
  const page = await waiting.fetch('/login/other-device');
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('cache-control'), 'no-store');
  const html = await page.text();
  const request = html.match(/data-request="([^"]+)"/)[1];
  const code = html.match(/id="other-device-code">([A-Z-]+)</)[1];
  const pollAs = async (p) => {
    const res = await p.fetch('/api/login/other-device/poll', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request }),
    });
    assert.equal(res.status, 200);
    return (await res.json()).status;
  };
  assert.equal(await pollAs(waiting), 'pending');
  assert.equal(await pollAs(person()), 'gone', 'another browser cannot use the request id');

  // Not signed in: the approval page sends the person to sign in first, keeping the code.
  const anonymous = await tfetch(`${T.base}/login/approve?code=${code}`, { redirect: 'manual' });
  assert.equal(anonymous.status, 302);
  assert.equal(anonymous.headers.get('location'), `/login?next=${encodeURIComponent(`/login/approve?code=${code}`)}`);

  const approveHtml = await (await T.admin.fetch(`/login/approve?code=${code}`)).text();
  const csrf = approveHtml.match(/name="csrf_token" value="([^"]+)"/)[1];
  const deny = await T.admin.fetch('/login/approve', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf_token: csrf, code, decision: 'deny' }),
  });
  assert.equal(deny.status, 200);
  assert.equal(await pollAs(waiting), 'denied');
  const audit = await adminApi(T.base, T.apiKey, 'GET', '/api/audit-logs?event=other_device_denied');
  assert.equal(audit.json.data.length, 1, audit.text);
});

test('the account page lists the apps a person authorized and their recent activity; removing access ends the tokens', async () => {
  const client = await createClient(T.base, T.apiKey, { name: 'Wiki' });
  const { tokens } = await login(T.base, T.admin, client);
  assert.equal((await userinfo(T.base, tokens.access_token)).status, 200);
  const page = await accountPage(T.admin);
  assert.match(page, new RegExp(`data-client="${client.id}"`));
  assert.match(page, /id="activity"/);
  assert.match(page, /Created the account/);

  const csrf = csrfOf(page);
  const remove = (p, id) => p.fetch(`/api/account/apps/${id}`, { method: 'DELETE', headers: { 'x-csrf-token': csrf } });
  // Another person cannot remove it (their session's CSRF token does not even match).
  assert.equal((await remove(person(), client.id)).status, 401);
  assert.equal((await remove(T.admin, client.id)).status, 200);
  assert.equal((await userinfo(T.base, tokens.access_token)).status, 401);
  const refreshed = await tokenRequest(T.base, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal(refreshed.status, 400);
  assert.equal(refreshed.json.error, 'invalid_grant');
  const after = await accountPage(T.admin);
  assert.doesNotMatch(after, new RegExp(`data-client="${client.id}"`));
  assert.match(after, /Removed an app&#39;s access|Removed an app's access/);
  assert.equal((await remove(T.admin, client.id)).status, 404);
});

test('in Chromium: with recovery codes on, signing up shows ten codes once, right after the first passkey', async () => {
  await setRecoveryCodes(true);
  const invite = await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens');
  assert.equal(invite.status, 201, invite.text);
  const { context, page } = await pageWithAuthenticator(browser);
  try {
    await signUpInBrowser(page, invite.json.url, { first: 'Nia', username: 'nia', email: 'nia@example.com' });
    await page.waitForSelector('#recovery-new:not([hidden])');
    const codes = await page.locator('#recovery-list li').allTextContents();
    assert.equal(codes.length, 10);
    assert.match(await page.textContent('#recovery-status'), /10 of 10 unused/);
    await shot(page, '7-codes-right-after-sign-up');
    // Shown once: coming back (even by the same address) shows the count, and makes no new set.
    await page.goto(`${T.base}/account?welcome=1`);
    assert.equal(await page.locator('#recovery-new').isHidden(), true);
    assert.match(await page.textContent('#recovery-status'), /10 of 10 unused/);
    // A code from the page signs Nia in.
    const used = await useCode(person(), codes[4]);
    assert.equal(used.status, 302);
    assert.match(used.headers.get('location'), /add_passkey=1/);
  } finally {
    await context.close();
  }
});
