// Issue 5 in a real browser: from a fresh tenant, the first admin (Chromium's virtual
// authenticator) uses the admin console to create a user and an invitation, a group, and a
// Cloudflare Access client from its preset restricted to that group; the URLs the console shows
// are the tenant's real endpoints; an Access-style sign-in works for a member and is refused to
// someone outside the group; the audit log page shows the sign-in. Screenshots of every page go
// to tests/output/admin-console/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant, tfetch } from './lib/env.mjs';
import { launch, pageWithAuthenticator, screenshots, signUpInBrowser } from './lib/browser.mjs';
import { pkcePair } from './lib/oidc.mjs';

const shot = screenshots('admin-console');
const DESKTOP = { width: 1280, height: 900 };
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** No view may leak a JavaScript null/undefined into the page text. */
async function noLeaks(page) {
  assert.doesNotMatch(await page.textContent('#view'), /\b(null|undefined|NaN|\[object Object\])\b/);
}

/** Reads the value the console shows next to a label in the setup values. */
async function shown(page, label) {
  return page.locator(`#setup-values code[data-label="${label}"]`).textContent();
}

/**
 * Starts an authorization request as Cloudflare Access does (PKCE, long state, no nonce) in the
 * page and returns the callback URL the browser is sent to. Access's host does not exist here,
 * so the browser's request to it is recorded and then fails to resolve, which is expected.
 * (Playwright's page.route cannot answer a request reached through a redirect.)
 */
async function accessSignIn(page, base, clientId, callback) {
  const { verifier, challenge } = pkcePair();
  const state = 'access-state-'.padEnd(1200, 'x');
  const host = new URL(callback).host;
  let landed;
  page.on('request', (r) => {
    if (new URL(r.url()).host === host) landed = r.url();
  });
  const q = new URLSearchParams({
    client_id: clientId, redirect_uri: callback, response_type: 'code', scope: 'openid email profile groups',
    state, code_challenge: challenge, code_challenge_method: 'S256',
  });
  await page.goto(`${base}/authorize?${q}`).catch((e) => {
    if (!/ERR_NAME_NOT_RESOLVED/.test(e.message)) throw e;
  });
  return { landed: () => landed, verifier, state };
}

test('admin console: user, invite, group, Cloudflare Access client from its preset, restriction, audit log', async () => {
  const tenant = await createTenant('console', 'Console Co');
  const base = tenant.issuer;
  const admin = await pageWithAuthenticator(browser, DESKTOP);
  const guest = await pageWithAuthenticator(browser);
  const page = admin.page;
  try {
    await signUpInBrowser(page, tenant.setup_url, { first: 'Ada', last: 'Lovelace', username: 'ada', email: 'ada@example.com' });
    await page.click('text=Admin console');
    await page.waitForSelector('h1:text("Users")');
    await noLeaks(page);
    await shot(page, '1-users');

    // A user, then a one-time login link for them.
    await page.click('summary:text("New user")');
    await page.fill('#new-user #username', 'grace');
    await page.fill('#new-user #email', 'grace@example.com');
    await page.fill('#new-user #first_name', 'Grace');
    await page.click('#new-user button[type=submit]');
    await page.waitForSelector('h1:text("grace")');
    assert.match(await page.textContent('#sessions'), /Not signed in anywhere/);
    await page.click('#one-time-link');
    const loginLink = await page.locator('#login-link-url').textContent();
    assert.ok(loginLink.startsWith(`${base}/login/code/`), loginLink);
    await shot(page, '2-user-created');
    // The server's field error is shown and the field marked.
    await page.fill('#user-form #username', 'x');
    await page.click('#user-form button[type=submit]');
    await page.waitForSelector('#user-form #username[aria-invalid="true"]');
    assert.match(await page.textContent('#status'), /username/i);

    // An invitation link.
    await page.goto(`${base}/admin#/users`);
    await page.click('#create-invite');
    const invite = await page.locator('#invite-url').textContent();
    assert.ok(invite.startsWith(`${base}/setup/`), invite);

    // A group with the admin in it.
    await page.goto(`${base}/admin#/groups`);
    await page.fill('#new-group #name', 'access-users');
    await page.fill('#new-group #friendly_name', 'Access users');
    await page.click('#new-group button[type=submit]');
    await page.waitForSelector('h1:text("Access users")');
    await page.check('input[name="member-ada"]');
    await page.click('#members-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('Members saved'));
    await shot(page, '3-group');

    // The Cloudflare Access preset, restricted to the group.
    await page.goto(`${base}/admin#/clients`);
    await page.click('#new-client');
    await page.waitForSelector('.presets');
    await shot(page, '4-presets');
    await page.click('[data-preset="cloudflare-access"]');
    await page.fill('#preset-form #input', 'myteam');
    await page.check('input[name="allowed_group"][value="access-users"]');
    await shot(page, '5-access-preset');
    await page.click('#preset-form button[type=submit]');
    await page.waitForSelector('#setup-values');
    await shot(page, '6-access-setup-values');
    const discovery = await (await tfetch(`${base}/.well-known/openid-configuration`)).json();
    assert.equal(await shown(page, 'Auth URL'), discovery.authorization_endpoint);
    assert.equal(await shown(page, 'Token URL'), discovery.token_endpoint);
    assert.equal(await shown(page, 'Certificate URL'), discovery.jwks_uri);
    const clientId = await shown(page, 'App ID');
    const secret = await shown(page, 'Client secret');
    assert.match(secret, /^[A-Za-z0-9]{48}$/);
    assert.match(await page.textContent('#setup-snippet'), new RegExp(`App ID: ${clientId}`));

    // The client page shows the same values again (without the secret) and the restriction.
    await page.click('text=Client settings →');
    await page.waitForSelector('#client-form');
    assert.equal(await shown(page, 'Token URL'), discovery.token_endpoint);
    assert.ok(await page.isChecked('input[name="allowed_group"][value="access-users"]'));
    const callback = 'https://myteam.cloudflareaccess.com/cdn-cgi/access/callback';
    assert.equal((await page.inputValue('#callback_urls')).trim(), callback);
    await shot(page, '7-client');

    // Its secrets: one listed; another added is shown once and listed too (the first keeps
    // working: Access uses it below).
    assert.equal(await page.locator('#client-secrets tbody tr').count(), 1);
    await page.click('#secret-add-form button[type=submit]');
    await page.waitForSelector('#new-secret');
    assert.match(await page.textContent('#new-secret'), /^[A-Za-z0-9]{48}$/);
    await page.waitForFunction(() => document.querySelectorAll('#client-secrets tbody tr').length === 2);

    // Access signs the admin (a member of the group) in: code at the callback, then Access's
    // server-side token call with Basic auth and the un-urlencoded secret.
    // Sign out first, so the sign-in through Access is a real passkey sign-in (the modal
    // button path: conditional mediation is hidden so autofill does not answer first).
    await page.goto(`${base}/account`);
    await page.click('#sign-out');
    await page.waitForSelector('text=You are signed out');
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    const flow = await accessSignIn(page, base, clientId, callback);
    assert.match(page.url(), /\/login\?(.*&)?next=/);
    await shot(page, '8-login-for-access');
    const sentToAccess = page.waitForRequest((r) => new URL(r.url()).host === new URL(callback).host);
    await page.click('#passkey-login');
    await sentToAccess;
    assert.ok(flow.landed(), 'the browser was sent to the Access callback');
    const back = new URL(flow.landed());
    assert.equal(back.searchParams.get('state'), flow.state);
    assert.equal(back.searchParams.get('iss'), base);
    const token = await tfetch(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: callback, code_verifier: flow.verifier,
      }),
    });
    assert.equal(token.status, 200, await token.clone().text());
    const idToken = (await token.json()).id_token;
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
    assert.equal(claims.email, 'ada@example.com');
    assert.deepEqual(claims.groups, ['access-users']);

    // Someone who joined with the invitation but is not in the group gets a clear refusal.
    await signUpInBrowser(guest.page, invite, { first: 'Gus', username: 'gus', email: 'gus@example.com' });
    const refused = await accessSignIn(guest.page, base, clientId, callback);
    await guest.page.waitForSelector('h1');
    assert.equal(refused.landed(), undefined, 'no redirect to Access');
    assert.match(await guest.page.textContent('main'), /access|allowed|permission/i);
    await shot(guest.page, '9-not-in-group');

    // The audit log page shows the sign-in and the token grant for the client.
    await page.goto(`${base}/admin#/audit`);
    await page.waitForSelector('h1:text("Audit log")');
    await page.waitForSelector('tr[data-event="token_issued"]');
    const grantRow = await page.locator('tr[data-event="token_issued"]').first().textContent();
    assert.match(grantRow, /Cloudflare Zero Trust Access/);
    assert.match(grantRow, /ada/);
    const signIn = await page.locator('tr[data-event="sign_in"]').first().textContent();
    assert.match(signIn, /ada/);
    await page.selectOption('#event', 'client_created');
    await page.click('#audit-filter button');
    // The filtered table replaces the full one once its request returns: wait for that.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#view tbody tr')];
      return rows.length > 0 && rows.every((r) => r.dataset.event === 'client_created');
    });
    assert.equal(await page.locator('#view tbody tr:not([data-event="client_created"])').count(), 0);
    await page.goto(`${base}/admin#/audit`);
    await page.waitForSelector('tr[data-event="token_issued"]');
    await noLeaks(page);
    await shot(page, '10-audit-log');

    // The other sections render, on a phone too.
    for (const [hash, heading] of [['#/api-keys', 'API keys'], ['#/settings', 'Settings']]) {
      await page.goto(`${base}/admin${hash}`);
      await page.waitForSelector(`h1:text("${heading}")`);
      await noLeaks(page);
      await shot(page, `11-${heading.toLowerCase().replace(' ', '-')}`);
    }
    // Settings: saving sends only what the admin changed (so another admin's change to another
    // setting, made since this page loaded, is not overwritten), here "emails verified".
    await page.goto(`${base}/admin#/settings`);
    await page.waitForSelector('#settings-form');
    assert.equal(await page.isChecked('#emails_verified'), false);
    await page.check('#emails_verified');
    const [put] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/api/application-configuration')),
      page.click('#settings-form button[type="submit"]'),
    ]);
    assert.deepEqual(put.postDataJSON(), { emails_verified: true });
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('Settings saved'));
    await page.reload();
    await page.waitForSelector('#settings-form');
    assert.equal(await page.isChecked('#emails_verified'), true);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/admin#/users`);
    await page.waitForSelector('h1:text("Users")');
    await noLeaks(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways on a phone by ${overflow}px`);
    await shot(page, '12-users-phone');
  } finally {
    await admin.context.close();
    await guest.context.close();
  }
});
