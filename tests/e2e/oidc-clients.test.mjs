// Issue 4: real relying parties against the real Worker: a certified third-party library
// (openid-client), a Cloudflare Access emulation, concurrency on one code, cross-tenant
// isolation, consent, group restrictions, form_post, introspection and revocation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader, decodeJwt } from 'jose';
import { createTenant, tfetch, operator } from './lib/env.mjs';
import { tenantWithAdmin, adminApi } from './lib/person.mjs';
import {
  CALLBACK, createClient, authorize, authorizeQuery, exchange, tokenRequest, userinfo, login,
  pkcePair, introspect as introspectAt,
} from './lib/oidc.mjs';

let A; // { tenant, base, admin, apiKey }
let B;

before(async () => {
  [A, B] = await Promise.all([
    tenantWithAdmin(createTenant, 'rp-a'),
    tenantWithAdmin(createTenant, 'rp-b'),
  ]);
});

after(() => {
  A.admin.cleanup();
  B.admin.cleanup();
});

/** openid-client's fetch, pinned to loopback like every test request. */
const loopbackFetch = (url, options) => tfetch(url, options);

test('openid-client (certified RP library): discovery, code+PKCE, id_token, userinfo, refresh, code reuse', async () => {
  const client = await createClient(A.base, A.apiKey, { name: 'openid-client app' });
  const config = await oidc.discovery(new URL(A.base), client.id, client.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
    [oidc.customFetch]: loopbackFetch,
  });
  config[oidc.customFetch] = loopbackFetch;
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid email profile groups',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { location } = await A.admin.walk(url.pathname + url.search);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, A.base);
  assert.equal(claims.aud, client.id);
  // openid-client checks claims; check the signature against the JWKS with jose as well.
  const jwks = await (await tfetch(`${A.base}/.well-known/jwks.json`)).json();
  await jwtVerify(tokens.id_token, createLocalJWKSet(jwks), { issuer: A.base, audience: client.id });
  const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, 'ada@example.com');
  assert.equal(info.name, 'Ada Lovelace');
  assert.deepEqual(info.groups, []);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal(refreshed.claims().sub, claims.sub);
  // The same callback URL again (code reuse) is refused by the provider.
  await assert.rejects(
    oidc.authorizationCodeGrant(config, new URL(location), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    }),
    (e) => e.error === 'invalid_grant' || /invalid_grant/.test(String(e.cause?.error ?? e.message)),
  );
});

test('Cloudflare Access emulation: auth/token/JWKS URLs only, long state, no nonce, PKCE + raw Basic secret', async () => {
  const team = 'acme-team';
  const callback = `https://${team}.cloudflareaccess.com/cdn-cgi/access/callback`;
  const created = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', {
    name: 'Cloudflare Access',
    callback_urls: [callback],
    claims_in_id_token: true,
    pkce_enabled: true,
    preset: 'cloudflare-access',
  });
  assert.equal(created.status, 201, created.text);
  const client = created.json;
  assert.match(client.client_secret, /^[A-Za-z0-9]+$/, 'alphanumeric: survives un-urlencoded Basic');
  // Put the admin in a group so the groups claim has content.
  const group = await adminApi(A.base, A.apiKey, 'POST', '/api/user-groups', { name: 'staff' });
  const users = await adminApi(A.base, A.apiKey, 'GET', '/api/users');
  const ada = users.json.data.find((u) => u.username === 'ada');
  const members = await adminApi(A.base, A.apiKey, 'PUT', `/api/user-groups/${group.json.id}/users`, { user_ids: [ada.id] });
  assert.equal(members.status, 200, members.text);

  // What the admin pastes: three URLs, no discovery, no issuer.
  const authUrl = `${A.base}/authorize`;
  const tokenUrl = `${A.base}/api/oidc/token`;
  const certUrl = `${A.base}/.well-known/jwks.json`;
  const state = 'x'.repeat(1500) + '.opaque-access-state';
  const { verifier, challenge } = pkcePair();
  const q = new URLSearchParams({
    client_id: client.id,
    redirect_uri: callback,
    response_type: 'code',
    scope: 'openid email profile groups',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    access_extra: 'ignored',
  });
  const { location } = await A.admin.walk(`${new URL(authUrl).pathname}?${q}`);
  assert.ok(location.startsWith(callback), location);
  const back = new URL(location).searchParams;
  assert.equal(back.get('state'), state);
  // Access does not form-urlencode before Base64: send it raw, as Access does.
  const res = await tfetch(tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.id}:${client.client_secret}`).toString('base64')}`,
      'user-agent': 'cloudflare-access',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: back.get('code'),
      redirect_uri: callback,
      code_verifier: verifier,
    }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /application\/json/);
  const body = await res.json();
  const jwks = await (await tfetch(certUrl)).json();
  assert.ok(jwks.keys.every((k) => k.kty !== 'OKP'), 'no OKP key in the JWKS');
  const { payload } = await jwtVerify(body.id_token, createLocalJWKSet(jwks), {
    algorithms: ['RS256', 'RS512', 'PS512', 'ES256', 'ES384', 'ES512'],
    audience: client.id,
  });
  assert.ok(decodeProtectedHeader(body.id_token).kid);
  assert.equal(payload.email, 'ada@example.com');
  assert.equal(payload.name, 'Ada Lovelace');
  assert.deepEqual(payload.groups, ['staff']);
  assert.equal(payload.nonce, undefined);
});

test('20 concurrent redemptions of one code: exactly one succeeds', async () => {
  const client = await createClient(A.base, A.apiKey);
  const { params } = await authorize(A.admin, client);
  const code = params.get('code');
  const results = await Promise.all(Array.from({ length: 20 }, () => exchange(A.base, client, code)));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, results.map((r) => r.status).join(','));
  for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.json.error, 'invalid_grant');
  // The losers were replays: the winner's tokens are revoked too (RFC 6749 §4.1.2).
  assert.equal((await userinfo(A.base, ok[0].json.access_token)).status, 401);
});

test("cross-tenant: tenant A's client, code, access and refresh tokens are rejected at tenant B", async () => {
  const client = await createClient(A.base, A.apiKey);
  // Client of A at B's authorize: unknown client page, no redirect.
  const page = await B.admin.fetch(`/authorize?${authorizeQuery(client)}`);
  assert.equal(page.status, 400);
  assert.equal(page.headers.get('location'), null);
  // Code of A redeemed at B.
  const { params } = await authorize(A.admin, client);
  const atB = await exchange(B.base, client, params.get('code'));
  assert.equal(atB.json.error, 'invalid_client');
  // Tokens of A at B.
  const tokens = await exchange(A.base, client, params.get('code'));
  assert.equal(tokens.status, 200, 'the failed attempt at B did not burn the code at A');
  assert.equal((await userinfo(B.base, tokens.json.access_token)).status, 401);
  const refresh = await tokenRequest(B.base, client, { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token });
  assert.equal(refresh.json.error, 'invalid_client');
  // Same client id and secret registered at B would still not make A's tokens valid there:
  // an id_token of A does not verify with B's keys.
  const jwksB = await (await tfetch(`${B.base}/.well-known/jwks.json`)).json();
  await assert.rejects(jwtVerify(tokens.json.id_token, createLocalJWKSet(jwksB)));
  // Admin API key of A is worthless at B.
  const list = await adminApi(B.base, A.apiKey, 'GET', '/api/oidc/clients');
  assert.equal(list.status, 401);
});

test('public client: PKCE required, token endpoint auth "none"', async () => {
  const spa = await createClient(A.base, A.apiKey, { name: 'SPA', is_public: true });
  assert.equal(spa.client_secret, undefined);
  const noPkce = await A.admin.walk(`/authorize?${authorizeQuery(spa)}`);
  assert.equal(new URL(noPkce.location).searchParams.get('error'), 'invalid_request');
  const { verifier, challenge } = pkcePair();
  const { params } = await authorize(A.admin, spa, { code_challenge: challenge, code_challenge_method: 'S256' });
  const t = await exchange(A.base, spa, params.get('code'), { code_verifier: verifier }, 'none');
  assert.equal(t.status, 200, JSON.stringify(t.json));
});

test('consent screen when the client asks for it: allow issues a code and is remembered, deny returns access_denied', async () => {
  const client = await createClient(A.base, A.apiKey, { name: 'Consenting App', require_consent: true });
  const browser = A.admin.anotherBrowser();
  await browser.signIn();
  const deny = await browser.walk(`/authorize?${authorizeQuery(client)}`);
  assert.equal(deny.res.status, 200);
  const html = await deny.res.text();
  assert.match(html, /Consenting App/);
  const form = (name) => html.match(new RegExp(`name="${name}" value="([^"]+)"`))[1];
  const denied = await browser.fetch('/authorize/consent', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ interaction_id: form('interaction_id'), csrf_token: form('csrf_token'), decision: 'deny' }),
  });
  assert.equal(new URL(denied.headers.get('location')).searchParams.get('error'), 'access_denied');

  const again = await browser.walk(`/authorize?${authorizeQuery(client)}`);
  const html2 = await again.res.text();
  const field = (name) => html2.match(new RegExp(`name="${name}" value="([^"]+)"`))[1];
  const allowed = await browser.fetch('/authorize/consent', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ interaction_id: field('interaction_id'), csrf_token: field('csrf_token'), decision: 'allow' }),
  });
  assert.ok(new URL(allowed.headers.get('location')).searchParams.get('code'));
  // Remembered: the next request for the same scopes goes straight through.
  const third = await browser.walk(`/authorize?${authorizeQuery(client)}`);
  assert.ok(third.location && new URL(third.location).searchParams.get('code'));
  // A forged consent post (wrong CSRF token) is refused.
  const forged = await browser.fetch('/authorize/consent', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ interaction_id: 'x', csrf_token: 'forged', decision: 'allow' }),
  });
  assert.equal(forged.status, 403);
});

test("a client's allowed groups are enforced with a clear page", async () => {
  const group = await adminApi(A.base, A.apiKey, 'POST', '/api/user-groups', { name: 'finance' });
  assert.equal(group.status, 201, group.text);
  const client = await createClient(A.base, A.apiKey, { name: 'Ledger', allowed_user_groups: ['finance'] });
  assert.deepEqual(client.allowed_user_groups, ['finance']);
  const refused = await A.admin.walk(`/authorize?${authorizeQuery(client)}`);
  assert.equal(refused.res.status, 403);
  assert.equal(refused.location, undefined);
  assert.match(await refused.res.text(), /allowed to use Ledger/);
  const users = await adminApi(A.base, A.apiKey, 'GET', '/api/users?search=ada');
  const ada = users.json.data[0];
  await adminApi(A.base, A.apiKey, 'PUT', `/api/user-groups/${group.json.id}/users`, { user_ids: [ada.id] });
  const { params } = await authorize(A.admin, client);
  assert.ok(params.get('code'));
});

test('response_mode=form_post returns an auto-submitting form to the redirect URI', async () => {
  const client = await createClient(A.base, A.apiKey);
  const q = authorizeQuery(client, { response_mode: 'form_post' });
  const { res } = await A.admin.walk(`/authorize?${q}`);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /form-action https:\/\/app\.example\.com/);
  const html = await res.text();
  assert.match(html, new RegExp(`action="${CALLBACK.replace(/[/.]/g, '\\$&')}"`));
  const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
  assert.ok(field('code'));
  assert.equal(field('state'), q.get('state'));
  assert.equal(field('iss').replace(/&#x2f;|&#47;/gi, '/').replace(/&#x3a;|&#58;/gi, ':'), A.base);
  const t = await exchange(A.base, client, field('code'));
  assert.equal(t.status, 200);
});

test('introspection reports own tokens only; revocation ends the grant', async () => {
  const client = await createClient(A.base, A.apiKey);
  const other = await createClient(A.base, A.apiKey, { name: 'Other' });
  const { tokens } = await login(A.base, A.admin, client);
  const introspect = (c, token) => introspectAt(A.base, c, token);
  const own = await introspect(client, tokens.access_token);
  assert.equal(own.json.active, true);
  assert.equal(own.json.client_id, client.id);
  assert.equal(own.json.sub, decodeJwt(tokens.id_token).sub);
  assert.equal((await introspect(client, tokens.refresh_token)).json.active, true);
  assert.equal((await introspect(other, tokens.access_token)).json.active, false);
  assert.equal((await introspect({ ...client, client_secret: 'x' }, tokens.access_token)).status, 401);
  const revoke = await tfetch(`${A.base}/api/oidc/revoke`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.id}:${client.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: tokens.refresh_token }),
  });
  assert.equal(revoke.status, 200);
  assert.equal((await introspect(client, tokens.access_token)).json.active, false);
  assert.equal((await userinfo(A.base, tokens.access_token)).status, 401);
});

test('admin API: validation errors name the field; non-admin and missing keys are refused', async () => {
  const bad = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', { name: 'X', callback_urls: ['not a url'] });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.field, 'callback_urls');
  assert.match(bad.json.message, /not an absolute URL/);
  const unknown = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', { name: 'X', callback_urls: [CALLBACK], bogus: 1 });
  assert.equal(unknown.status, 400);
  const noKey = await tfetch(`${A.base}/api/oidc/clients`);
  assert.equal(noKey.status, 401);
  const wrongKey = await adminApi(A.base, 'eid_wrong', 'GET', '/api/oidc/clients');
  assert.equal(wrongKey.status, 401);
  // Update and secret regeneration.
  const client = await createClient(A.base, A.apiKey);
  const upd = await adminApi(A.base, A.apiKey, 'PUT', `/api/oidc/clients/${client.id}`, {
    name: 'Renamed', callback_urls: [CALLBACK, 'https://app.example.com/cb2'],
  });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.json.name, 'Renamed');
  const regen = await adminApi(A.base, A.apiKey, 'POST', `/api/oidc/clients/${client.id}/secret`);
  assert.equal(regen.status, 200);
  const { params } = await authorize(A.admin, client);
  assert.equal((await exchange(A.base, client, params.get('code'))).status, 401, 'old secret no longer works');
  const del = await adminApi(A.base, A.apiKey, 'DELETE', `/api/oidc/clients/${client.id}`);
  assert.equal(del.status, 204);
  assert.equal((await adminApi(A.base, A.apiKey, 'GET', `/api/oidc/clients/${client.id}`)).status, 404);
});

test('the operator API registers a client in a tenant (the CLI path)', async () => {
  const res = await operator('POST', `/tenants/${A.tenant.slug}/clients`, {
    name: 'From the operator',
    callback_urls: [CALLBACK],
    claims_in_id_token: true,
  });
  assert.equal(res.status, 201, res.text);
  assert.match(res.json.client_secret, /^[A-Za-z0-9]{48}$/);
  const { tokens } = await login(A.base, A.admin, res.json);
  assert.equal(decodeJwt(tokens.id_token).email, 'ada@example.com', 'claims in the id_token');
  // A public client needs a callback URL (a confidential machine client may have none).
  const refused = await operator('POST', `/tenants/${A.tenant.slug}/clients`, { name: 'x', callback_urls: [], is_public: true });
  assert.equal(refused.status, 400, refused.text);
});
