// Issue 15, part 5: pushed authorization requests (RFC 9126) against the real Worker, driven by
// openid-client (buildAuthorizationUrlWithPAR), with the RFC's error cases: a reused
// request_uri, another client's request_uri, an expired one, and a client that requires PAR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createTenant, tfetch, getJson } from './lib/env.mjs';
import { tenantWithAdmin, adminApi } from './lib/person.mjs';
import { CALLBACK, createClient, authorizeQuery, sleep, discover } from './lib/oidc.mjs';

let A; // { tenant, base, admin, apiKey }
let app; // a confidential client of A
let early; // a request_uri pushed at the start, used after it expired (last test)
let pushedAt;

/** openid-client's fetch, pinned to loopback like every test request. */

function configFor(client) {
  return discover(A.base, client.id, { clientSecret: client.client_secret });
}

/** POSTs a form to the PAR endpoint with Basic credentials (`secret` null: none). */
async function push(client, form, secret = client.client_secret) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (secret !== null) headers.authorization = `Basic ${Buffer.from(`${client.id}:${secret}`).toString('base64')}`;
  const res = await tfetch(`${A.base}/api/oidc/par`, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

/** The authorization parameters of a request for `client` (as a plain object). */
function params(client, overrides = {}) {
  return Object.fromEntries(authorizeQuery(client, overrides));
}

/** `/authorize?client_id=…&request_uri=…` walked by `person`: { res, location }. */
function authorizeWith(person, clientId, requestUri) {
  const q = new URLSearchParams({ client_id: clientId, request_uri: requestUri });
  return person.walk(`/authorize?${q}`);
}

/** A request_uri refused as RFC 9126 §4 says: an error page, no redirect to the client. */
async function assertRefusedPage({ res, location }) {
  assert.equal(location, undefined, `no redirect to the client: ${location}`);
  assert.equal(res.status, 400);
  assert.match(await res.text(), /invalid_request_uri/);
}

before(async () => {
  A = await tenantWithAdmin(createTenant, 'par');
  app = await createClient(A.base, A.apiKey, { name: 'PAR app' });
  const r = await push(app, params(app));
  assert.equal(r.status, 201, JSON.stringify(r.json));
  early = r.json.request_uri;
  pushedAt = Date.now();
});

after(() => A.admin.cleanup());

test('discovery advertises the PAR endpoint; PAR is required per client, not tenant-wide', async () => {
  for (const doc of ['openid-configuration', 'oauth-authorization-server']) {
    const { body } = await getJson(`${A.base}/.well-known/${doc}`);
    assert.equal(body.pushed_authorization_request_endpoint, `${A.base}/api/oidc/par`);
    assert.equal(body.require_pushed_authorization_requests, false);
  }
});

test('openid-client pushes the request, the person signs in with a passkey, the code gives tokens', async () => {
  const config = await configFor(app);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = await oidc.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: CALLBACK,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
  assert.match(url.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);
  // A browser without a session: the walk goes through the passkey sign-in.
  const browser = A.admin.anotherBrowser();
  const { location } = await browser.walk(url.pathname + url.search);
  assert.ok(location?.startsWith(CALLBACK), `a redirect to the client, got ${location}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const jwks = await (await tfetch(`${A.base}/.well-known/jwks.json`)).json();
  const { payload } = await jwtVerify(tokens.id_token, createLocalJWKSet(jwks), { issuer: A.base, audience: app.id });
  assert.equal(payload.nonce, nonce);
  assert.equal(payload.email, 'ada@example.com');
  // The request_uri was used: a second use is refused, on a page.
  await assertRefusedPage(await browser.walk(url.pathname + url.search));
});

test('the push answers 201 with a 60 s request_uri; parameters outside the pushed request are ignored', async () => {
  const r = await push(app, params(app, { state: 'pushed' }));
  assert.equal(r.status, 201);
  assert.equal(r.json.expires_in, 60);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const q = new URLSearchParams({
    client_id: app.id,
    request_uri: r.json.request_uri,
    state: 'smuggled',
    redirect_uri: 'https://evil.example.com/cb',
  });
  const { location } = await A.admin.walk(`/authorize?${q}`);
  assert.ok(location.startsWith(CALLBACK), location);
  assert.equal(new URL(location).searchParams.get('state'), 'pushed');
  assert.ok(new URL(location).searchParams.get('code'));
});

test('another client cannot use a request_uri (and trying does not spend it)', async () => {
  const other = await createClient(A.base, A.apiKey, { name: 'Other app' });
  const r = await push(app, params(app));
  await assertRefusedPage(await authorizeWith(A.admin, other.id, r.json.request_uri));
  const { location } = await authorizeWith(A.admin, app.id, r.json.request_uri);
  assert.ok(new URL(location).searchParams.get('code'), location);
  // Forged or foreign request_uris: refused as before PAR, or as invalid.
  await assertRefusedPage(await authorizeWith(A.admin, app.id, 'urn:ietf:params:oauth:request_uri:AAAA'));
  const https = await A.admin.walk(`/authorize?${authorizeQuery(app, { request_uri: 'https://x.example/r' })}`);
  assert.equal(new URL(https.location).searchParams.get('error'), 'request_uri_not_supported');
});

test('the push authenticates the client and validates the request like /authorize, as OAuth JSON errors', async () => {
  const bad = [
    [await push(app, params(app), 'wrong-secret'), 401, 'invalid_client'],
    [await push(app, params(app), null), 401, 'invalid_client'],
    [await push(app, params(app, { redirect_uri: 'https://evil.example.com/cb' })), 400, 'invalid_request'],
    [await push(app, params(app, { redirect_uri: `${CALLBACK}?x=1` })), 400, 'invalid_request'],
    [await push(app, params(app, { scope: 'email' })), 400, 'invalid_scope'],
    [await push(app, params(app, { response_type: 'token' })), 400, 'unsupported_response_type'],
    [await push(app, params(app, { request_uri: 'urn:ietf:params:oauth:request_uri:x' })), 400, 'invalid_request'],
    [await push(app, params(app, { state: 'x'.repeat(7000) })), 400, 'invalid_request'],
  ];
  for (const [r, status, error] of bad) {
    assert.equal(r.status, status, JSON.stringify(r.json));
    assert.equal(r.json.error, error, JSON.stringify(r.json));
  }
  // openid-client surfaces the error too.
  const config = await configFor({ ...app, client_secret: 'wrong-secret' });
  const refusal = await oidc
    .buildAuthorizationUrlWithPAR(config, { redirect_uri: CALLBACK, scope: 'openid' })
    .then(() => assert.fail('a push with a wrong secret must fail'), (e) => e);
  // A 401 with a WWW-Authenticate challenge: openid-client reports the challenge and keeps the
  // response, whose body is the OAuth error.
  assert.equal(refusal.status, 401, String(refusal));
  assert.equal((await refusal.response.json()).error, 'invalid_client');
});

test('a client that requires PAR: plain requests are refused, pushed ones work; the setting is in the admin API', async () => {
  const strict = await createClient(A.base, A.apiKey, { name: 'Strict app', require_pushed_authorization_requests: true });
  assert.equal(strict.require_pushed_authorization_requests, true);
  const plain = await A.admin.walk(`/authorize?${authorizeQuery(strict, { state: 's1' })}`);
  const refused = new URL(plain.location).searchParams;
  assert.equal(refused.get('error'), 'invalid_request');
  assert.equal(refused.get('state'), 's1');
  assert.equal(refused.get('code'), null);
  const config = await configFor(strict);
  const url = await oidc.buildAuthorizationUrlWithPAR(config, { redirect_uri: CALLBACK, scope: 'openid', state: 's2' });
  const { location } = await A.admin.walk(url.pathname + url.search);
  assert.ok(new URL(location).searchParams.get('code'), location);
  // Switched off through the admin API: plain requests work again.
  const shown = await adminApi(A.base, A.apiKey, 'GET', `/api/oidc/clients/${strict.id}`);
  assert.equal(shown.json.require_pushed_authorization_requests, true);
  const updated = await adminApi(A.base, A.apiKey, 'PUT', `/api/oidc/clients/${strict.id}`, {
    name: shown.json.name,
    callback_urls: shown.json.callback_urls,
    require_pushed_authorization_requests: false,
  });
  assert.equal(updated.status, 200, updated.text);
  assert.equal(updated.json.require_pushed_authorization_requests, false);
  const again = await A.admin.walk(`/authorize?${authorizeQuery(strict)}`);
  assert.ok(new URL(again.location).searchParams.get('code'), again.location);
});

test('a request_uri expires after 60 s', async () => {
  const wait = pushedAt + 61_000 - Date.now();
  if (wait > 0) await sleep(wait);
  await assertRefusedPage(await authorizeWith(A.admin, app.id, early));
});
