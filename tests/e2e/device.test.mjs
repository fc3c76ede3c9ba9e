// Issue 15 part 3: the device authorization grant (RFC 8628) against the real Worker. A device
// is openid-client (initiateDeviceAuthorization / pollDeviceAuthorizationGrant) or Authlib from
// Python; a person with a software passkey signs in at /device, enters or confirms the user
// code and allows or denies; Chromium with a virtual authenticator does the same on the page.
// The RFC's error answers are checked on the raw token endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import * as oidc from 'openid-client';
import { createTenant, operator, tfetch } from './lib/env.mjs';
import { tenantWithAdmin } from './lib/person.mjs';
import { createClient, tokenRequest, verifyIdToken, userinfo } from './lib/oidc.mjs';
import { launch, pageWithAuthenticator, screenshots, signUpInBrowser } from './lib/browser.mjs';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const PYTHON = process.env.EDGE_ID_DJANGO_PYTHON ?? '.venv-django/bin/python';

let T; // { tenant, base, admin, apiKey }
let app; // a confidential client

before(async () => {
  T = await tenantWithAdmin(createTenant, 'device');
  app = await createClient(T.base, T.apiKey, { name: 'Living Room TV' });
});

after(() => {
  T?.admin.cleanup();
});

const loopbackFetch = (url, options) => tfetch(url, options);

/** Starts a device authorization on the raw endpoint (client_secret_basic unless `auth`). */
async function startDevice(base, client, scope = 'openid email', auth = 'basic') {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams({ scope });
  if (auth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${client.id}:${client.client_secret}`).toString('base64')}`;
  } else {
    body.set('client_id', client.id);
  }
  const res = await tfetch(`${base}/api/oidc/device/authorize`, { method: 'POST', headers, body });
  return { status: res.status, json: await res.json() };
}

/** One poll of the token endpoint with a device code. */
function pollOnce(base, client, deviceCode, auth = 'basic') {
  return tokenRequest(base, client, { grant_type: DEVICE_GRANT, device_code: deviceCode }, auth);
}

function csrfOf(html) {
  const m = html.match(/name="csrf_token" value="([^"]+)"/);
  assert.ok(m, `no CSRF token in ${html.slice(0, 300)}`);
  return m[1];
}

/** The person (signed in on the way) opens a /device URL; returns the page's HTML. */
async function openDevicePage(person, path) {
  const { res } = await person.walk(path);
  assert.equal(res.status, 200);
  return res.text();
}

/** Posts a /device form (code entry or decision) as the person. */
async function postDeviceForm(person, path, fields) {
  const res = await person.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  return { status: res.status, html: await res.text() };
}

/** Enters `userCode` at /device and returns the confirmation (or error) page. */
async function enterCode(person, userCode) {
  const html = await openDevicePage(person, '/device');
  return postDeviceForm(person, '/device', { csrf_token: csrfOf(html), user_code: userCode });
}

/** Opens verification_uri_complete, confirms the code and allows (or denies). */
async function decide(person, verificationUriComplete, decision = 'allow') {
  const url = new URL(verificationUriComplete);
  const entry = await openDevicePage(person, url.pathname + url.search);
  const userCode = url.searchParams.get('user_code');
  assert.ok(entry.includes(`value="${userCode}"`), 'verification_uri_complete pre-fills the code');
  assert.match(entry, /<svg role="img"/, 'a QR code of verification_uri_complete');
  const confirm = await postDeviceForm(person, '/device', { csrf_token: csrfOf(entry), user_code: userCode });
  assert.equal(confirm.status, 200, confirm.html);
  const clientId = confirm.html.match(/name="client_id" value="([^"]+)"/)[1];
  const done = await postDeviceForm(person, '/device/decision', {
    csrf_token: csrfOf(confirm.html),
    user_code: userCode,
    client_id: clientId,
    decision,
  });
  assert.equal(done.status, 200, done.html);
  return { confirm: confirm.html, done: done.html };
}

test('openid-client: device authorization, the person approves at /device, tokens, refresh', async () => {
  const config = await oidc.discovery(new URL(T.base), app.id, app.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
    [oidc.customFetch]: loopbackFetch,
  });
  config[oidc.customFetch] = loopbackFetch;
  const meta = config.serverMetadata();
  assert.equal(meta.device_authorization_endpoint, `${T.base}/api/oidc/device/authorize`);
  assert.ok(meta.grant_types_supported.includes(DEVICE_GRANT));

  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid email profile' });
  assert.match(device.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  assert.equal(device.verification_uri, `${T.base}/device`);
  assert.equal(device.verification_uri_complete, `${T.base}/device?user_code=${device.user_code}`);
  assert.equal(device.expires_in, 600);
  assert.equal(device.interval, 5);

  const polled = oidc.pollDeviceAuthorizationGrant(config, device);
  const { confirm, done } = await decide(T.admin, device.verification_uri_complete);
  assert.match(confirm, /Connect Living Room TV on your device\?/);
  assert.match(confirm, /<strong>email<\/strong>/);
  assert.match(confirm, new RegExp(device.user_code));
  assert.match(done, /Device connected/);
  const tokens = await polled;
  const claims = tokens.claims();
  assert.equal(claims.iss, T.base);
  assert.equal(claims.aud, app.id);
  await verifyIdToken(T.base, tokens.id_token, app.id);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, 'ada@example.com');
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(refreshed.claims().sub, claims.sub);

  // The device code was single use.
  const again = await pollOnce(T.base, app, device.device_code);
  assert.equal(again.status, 400);
  assert.equal(again.json.error, 'invalid_grant');
});

test('RFC 8628 §3.5 answers: authorization_pending, slow_down, access_denied, reuse, client checks', async () => {
  const { status, json: device } = await startDevice(T.base, app);
  assert.equal(status, 200, JSON.stringify(device));
  const first = await pollOnce(T.base, app, device.device_code);
  assert.equal(first.status, 400);
  assert.equal(first.json.error, 'authorization_pending');
  const fast = await pollOnce(T.base, app, device.device_code);
  assert.equal(fast.status, 400);
  assert.equal(fast.json.error, 'slow_down');

  // Another client (authenticated) may not poll it; a wrong secret is invalid_client.
  const other = await createClient(T.base, T.apiKey, { name: 'Other app' });
  const foreign = await pollOnce(T.base, other, device.device_code);
  assert.equal(foreign.json.error, 'invalid_grant');
  const wrong = await pollOnce(T.base, { ...app, client_secret: 'nope' }, device.device_code);
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.error, 'invalid_client');

  const { done } = await decide(T.admin, device.verification_uri_complete, 'deny');
  assert.match(done, /Request denied/);
  const denied = await pollOnce(T.base, app, device.device_code);
  assert.equal(denied.status, 400);
  assert.equal(denied.json.error, 'access_denied');

  // Starting needs valid client credentials and the openid scope.
  const refused = await startDevice(T.base, { ...app, client_secret: 'nope' });
  assert.equal(refused.status, 401);
  assert.equal(refused.json.error, 'invalid_client');
  const noOpenid = await startDevice(T.base, app, 'email');
  assert.equal(noOpenid.json.error, 'invalid_scope');
});

test('a public client (a CLI) gets tokens; a polled approved code is spent for concurrent polls', async () => {
  const cli = await createClient(T.base, T.apiKey, { name: 'Edge CLI', is_public: true });
  const { json: device } = await startDevice(T.base, cli, 'openid', 'none');
  await decide(T.admin, device.verification_uri_complete);
  const polls = await Promise.all([0, 1, 2].map(() => pollOnce(T.base, cli, device.device_code, 'none')));
  const won = polls.filter((p) => p.status === 200);
  assert.equal(won.length, 1, JSON.stringify(polls.map((p) => p.json)));
  assert.ok(polls.every((p) => p.status === 200 || p.json.error === 'invalid_grant'));
  const info = await userinfo(T.base, won[0].json.access_token);
  assert.equal(info.status, 200);
});

test('expired_token once the device code has expired', async () => {
  const state = process.env.EDGE_ID_STATE;
  assert.ok(state, 'scripts/e2e.sh sets EDGE_ID_STATE');
  const { json: device } = await startDevice(T.base, app);
  // Age the row as ten minutes would (SHA-256, base64url: how the Worker stores the code).
  const hash = createHash('sha256').update(device.device_code).digest('base64url');
  await new Promise((resolve, reject) =>
    execFile(
      'wrangler',
      ['d1', 'execute', 'DB', '--local', '--persist-to', state, '--command',
        `UPDATE device_authorizations SET expires_at = 1 WHERE device_code_hash = '${hash}'`],
      { env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    ),
  );
  const late = await pollOnce(T.base, app, device.device_code);
  assert.equal(late.status, 400);
  assert.equal(late.json.error, 'expired_token');
  const entry = await enterCode(T.admin, device.user_code);
  assert.equal(entry.status, 400);
  assert.match(entry.html, /has expired/);
});

test('wrong user codes: refused, counted, and after five the account is locked out; codes are per tenant', async () => {
  // A tenant of its own: the lock-out is per account for 15 minutes.
  const L = await tenantWithAdmin(createTenant, 'device-lock');
  try {
    const tv = await createClient(L.base, L.apiKey, { name: 'TV' });
    const { json: device } = await startDevice(L.base, tv);
    // A code of tenant T means nothing at tenant L (a phishing link to the wrong tenant).
    const { json: elsewhere } = await startDevice(T.base, app);
    const cross = await enterCode(L.admin, elsewhere.user_code);
    assert.equal(cross.status, 400);
    assert.match(cross.html, /That code isn/);
    const malformed = await enterCode(L.admin, 'hello');
    assert.equal(malformed.status, 400);
    assert.match(malformed.html, /XXXX-XXXX/);
    const wrong = device.user_code === 'BBBB-BBBB' ? 'CCCC-CCCC' : 'bbbb-bbbb';
    for (let i = 0; i < 4; i++) {
      const r = await enterCode(L.admin, wrong);
      assert.equal(r.status, 400, `wrong code ${i + 2}`);
    }
    const locked = await enterCode(L.admin, device.user_code);
    assert.equal(locked.status, 429, 'five wrong codes lock even the right one out');
    // Lower case, no dash: the same code, but still locked.
    const lower = await enterCode(L.admin, device.user_code.toLowerCase().replace('-', ''));
    assert.equal(lower.status, 429);
  } finally {
    L.admin.cleanup();
  }
});

test('authlib (Python): the device flow from a CLI', async () => {
  assert.ok(existsSync(PYTHON), `${PYTHON} missing: scripts/setup.sh --browser installs it`);
  const py = spawn(PYTHON, ['tests/e2e/device_authlib.py'], {
    env: { ...process.env, EDGE_ID_ISSUER: T.base, CLIENT_ID: app.id, CLIENT_SECRET: app.client_secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  py.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.ok(!first.done, `authlib printed nothing: ${stderr}`);
  const device = JSON.parse(first.value);
  await new Promise((r) => setTimeout(r, 6_000)); // let it see authorization_pending
  await decide(T.admin, device.verification_uri_complete);
  const last = await lines.next();
  assert.ok(!last.done, `authlib ended without an answer: ${stderr}`);
  const outcome = JSON.parse(last.value);
  assert.ok(outcome.token, JSON.stringify(outcome));
  assert.ok(outcome.seen.includes('authorization_pending'), JSON.stringify(outcome.seen));
  await verifyIdToken(T.base, outcome.token.id_token, app.id);
  const info = await userinfo(T.base, outcome.token.access_token);
  assert.equal(info.json.email, 'ada@example.com');
});

test('browser: sign in at /device with a passkey, enter the code, allow', async () => {
  const shot = screenshots('device');
  const tenant = await createTenant('device-web', 'Acme Devices');
  const browser = await launch();
  try {
    const { context, page } = await pageWithAuthenticator(browser);
    await signUpInBrowser(page, tenant.setup_url, {
      first: 'Grace', last: 'Hopper', username: 'grace', email: 'grace@example.com',
    });
    const key = await operator('POST', `/tenants/${tenant.slug}/api-keys`, { name: 't' });
    const tv = await createClient(tenant.issuer, key.json.api_key, { name: 'Kitchen Display' });
    const { json: device } = await startDevice(tenant.issuer, tv, 'openid profile email');
    // Signed out, the page sends the person to sign in and back with the code.
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await page.goto(`${tenant.issuer}/account`);
    await page.click('#sign-out');
    await page.waitForSelector('text=You are signed out');
    await page.goto(device.verification_uri_complete);
    assert.match(page.url(), /\/login\?next=/);
    await page.click('#passkey-login');
    await page.waitForURL((u) => new URL(u).pathname === '/device');
    assert.equal(await page.inputValue('#user_code'), device.user_code);
    assert.ok(await page.isVisible('figure.qr svg'));
    await shot(page, '1-enter-code');
    // Typed by hand instead: lower case, no dash.
    await page.fill('#user_code', device.user_code.toLowerCase().replace('-', ''));
    await page.click('#device-continue');
    await page.waitForSelector('#device-allow');
    assert.equal(await page.textContent('#device-user-code'), device.user_code);
    assert.match(await page.textContent('h1'), /Connect Kitchen Display on your device\?/);
    await shot(page, '2-confirm');
    await page.screenshot({ path: 'target/device-confirm.png', fullPage: true });
    await page.click('#device-allow');
    await page.waitForSelector('text=Device connected');
    await shot(page, '3-connected');
    const tokens = await pollOnce(tenant.issuer, tv, device.device_code);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
    await verifyIdToken(tenant.issuer, tokens.json.id_token, tv.id);
    const info = await userinfo(tenant.issuer, tokens.json.access_token);
    assert.equal(info.json.preferred_username, 'grace');
    await context.close();
  } finally {
    await browser.close();
  }
});
