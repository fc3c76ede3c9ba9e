// Issue 4: the checks of the OpenID conformance suite's Basic OP and RP-initiated logout plans
// (../shared/notes/conformance.md), each as its own test, through the real Worker in workerd
// with local D1, signing in with a software passkey.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader, decodeJwt, SignJWT, generateKeyPair, UnsecuredJWT } from 'jose';
import { createTenant, tfetch, getJson } from './lib/env.mjs';
import { tenantWithAdmin, adminApi } from './lib/person.mjs';
import {
  CALLBACK, LOGOUT_CALLBACK, createClient, authorize, authorizeQuery, exchange, tokenRequest,
  verifyIdToken, atHash, userinfo, login, pkcePair, sleep,
} from './lib/oidc.mjs';

let base;
let admin;
let apiKey;
let app; // confidential client, defaults (RS256, no PKCE required)

before(async () => {
  ({ base, admin, apiKey } = await tenantWithAdmin(createTenant, 'conf'));
  app = await createClient(base, apiKey);
});

after(() => admin.cleanup());

describe('discovery and keys', () => {
  test('discovery: issuer is the URL it was fetched from, required fields present', async () => {
    const { status, body } = await getJson(`${base}/.well-known/openid-configuration`);
    assert.equal(status, 200);
    assert.equal(body.issuer, base);
    assert.ok(body.response_types_supported.includes('code'));
    assert.ok(Array.isArray(body.subject_types_supported));
    assert.ok(body.id_token_signing_alg_values_supported.includes('RS256'));
    assert.ok(body.scopes_supported.includes('openid'));
    assert.ok(Array.isArray(body.claims_supported));
    for (const f of ['request_parameter_supported', 'request_uri_parameter_supported', 'claims_parameter_supported']) {
      assert.equal(typeof body[f], 'boolean', f);
    }
    assert.ok(Array.isArray(body.code_challenge_methods_supported));
    assert.equal(body.authorization_endpoint, `${base}/authorize`);
    assert.equal(body.token_endpoint, `${base}/api/oidc/token`);
    assert.equal(body.userinfo_endpoint, `${base}/api/oidc/userinfo`);
    assert.equal(body.end_session_endpoint, `${base}/api/oidc/end-session`);
    assert.equal(body.authorization_response_iss_parameter_supported, true);
  });

  test('WebFinger names the issuer for an account (Tailscale discovers it so), answering nothing about who exists', async () => {
    const rel = 'http://openid.net/specs/connect/1.0/issuer';
    for (const resource of ['acct:ada@example.com', 'acct:nobody-here@example.com']) {
      const res = await tfetch(`${base}/.well-known/webfinger?resource=${encodeURIComponent(resource)}&rel=${encodeURIComponent(rel)}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^application\/jrd\+json/);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(await res.json(), { subject: resource, links: [{ rel, href: base }] });
    }
    assert.equal((await tfetch(`${base}/.well-known/webfinger`)).status, 400);
    assert.equal((await tfetch(`${base}/.well-known/webfinger?resource=mailto%3Aada%40example.com`)).status, 400);
  });

  test('JWKS parses and every key has a distinct kid', async () => {
    const { body } = await getJson(`${base}/.well-known/jwks.json`);
    const kids = body.keys.map((k) => k.kid);
    assert.ok(kids.length >= 1);
    assert.equal(new Set(kids).size, kids.length);
  });
});

describe('basic OP plan', () => {
  test('happy path: state and iss echoed, token response complete, id_token valid', async () => {
    const { params, sent } = await authorize(admin, app);
    assert.equal(params.get('state'), sent.get('state'));
    assert.equal(params.get('iss'), base);
    const { status, json, headers } = await exchange(base, app, params.get('code'));
    assert.equal(status, 200);
    assert.equal(headers.get('cache-control'), 'no-store');
    for (const f of ['access_token', 'token_type', 'expires_in', 'id_token']) assert.ok(json[f], f);
    assert.equal(json.token_type, 'Bearer');
    const { payload, header } = await verifyIdToken(base, json.id_token, app.id);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(payload.exp > now && payload.exp < now + 86400, 'exp in seconds, in the future');
    assert.ok(payload.iat <= now + 5, 'iat not in the future');
    assert.ok(payload.auth_time <= now + 5 && payload.auth_time > now - 3600);
    assert.equal(payload.nonce, sent.get('nonce'));
    assert.ok(payload.sub);
    assert.equal(payload.at_hash, atHash(json.access_token));
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    // How the person signed in (the software passkey reports itself backed up, i.e. synced, and
    // user-verified), which session, which token; the scope claims are in the id_token by default.
    assert.deepEqual(payload.amr, ['mfa', 'swk', 'user']);
    assert.match(payload.sid, /^[A-Za-z0-9_-]{22}$/);
    assert.match(payload.jti, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(payload.email, 'ada@example.com');
    const again = await login(base, admin, app);
    const second = decodeJwt(again.tokens.id_token);
    assert.equal(second.sid, payload.sid, 'the same browser session');
    assert.notEqual(second.jti, payload.jti);
  });

  test('client_secret_post authenticates too', async () => {
    const { params } = await authorize(admin, app);
    const { status, json } = await exchange(base, app, params.get('code'), {}, 'post');
    assert.equal(status, 200, JSON.stringify(json));
  });

  test('with no alg registered the id_token is RS256 with a kid; ES256 when the client asks', async () => {
    const { tokens } = await login(base, admin, app);
    const h = decodeProtectedHeader(tokens.id_token);
    assert.equal(h.alg, 'RS256');
    assert.ok(h.kid);
    const es = await createClient(base, apiKey, { id_token_signed_response_alg: 'ES256' });
    const { tokens: t2 } = await login(base, admin, es);
    assert.equal(decodeProtectedHeader(t2.id_token).alg, 'ES256');
    await verifyIdToken(base, t2.id_token, es.id);
  });

  test('authorization codes carry at least 128 bits', async () => {
    const codes = new Set();
    for (let i = 0; i < 3; i++) {
      const { params } = await authorize(admin, app);
      const code = params.get('code');
      assert.ok(Buffer.from(code, 'base64url').length >= 16, code);
      codes.add(code);
    }
    assert.equal(codes.size, 3);
  });

  test('missing response_type is invalid_request, redirected with state', async () => {
    const q = authorizeQuery(app, { response_type: null });
    const { location } = await admin.walk(`/authorize?${q}`);
    const p = new URL(location).searchParams;
    assert.ok(['invalid_request', 'unsupported_response_type'].includes(p.get('error')));
    assert.equal(p.get('state'), q.get('state'));
    assert.equal(p.get('iss'), base);
  });

  test('no nonce, scope "email openid", unknown and optional parameters all succeed', async () => {
    const { tokens } = await login(base, admin, app, {
      nonce: null,
      scope: 'email openid',
      foo: 'bar',
      display: 'page',
      login_hint: 'ada@example.com',
      ui_locales: 'en',
      claims_locales: 'en',
      acr_values: 'urn:mace:incommon:iap:silver',
      claims: JSON.stringify({ userinfo: { email: { essential: true } } }),
    });
    const { payload } = await verifyIdToken(base, tokens.id_token, app.id);
    assert.equal(payload.nonce, undefined);
  });

  test('userinfo: GET with Bearer, POST with Bearer, POST with access_token in the body', async () => {
    const { tokens } = await login(base, admin, app);
    const { payload } = await verifyIdToken(base, tokens.id_token, app.id);
    for (const how of ['get', 'post-header', 'post-body']) {
      const u = await userinfo(base, tokens.access_token, how);
      assert.equal(u.status, 200, how);
      assert.equal(u.json.sub, payload.sub, how);
      assert.equal(u.json.email, 'ada@example.com', how);
    }
    const bad = await userinfo(base, 'not-a-token');
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate'), /^Bearer .*error="invalid_token"/);
  });

  test('scopes profile and email release their claims, and only those', async () => {
    const { tokens } = await login(base, admin, app, { scope: 'openid profile' });
    const u = (await userinfo(base, tokens.access_token)).json;
    assert.equal(u.name, 'Ada Lovelace');
    assert.equal(u.given_name, 'Ada');
    assert.equal(u.family_name, 'Lovelace');
    assert.equal(u.preferred_username, 'ada');
    assert.equal(u.email, undefined);
    const { tokens: t2 } = await login(base, admin, app, { scope: 'openid email' });
    const u2 = (await userinfo(base, t2.access_token)).json;
    assert.equal(u2.email, 'ada@example.com');
    assert.equal(typeof u2.email_verified, 'boolean');
    assert.equal(u2.name, undefined);
  });

  test('prompt=login forces a new sign-in with a later auth_time', async () => {
    const first = await login(base, admin, app);
    const t1 = decodeJwt(first.tokens.id_token).auth_time;
    await sleep(1100);
    const q = authorizeQuery(app, { prompt: 'login' });
    const step = await admin.fetch(`/authorize?${q}`);
    assert.equal(step.status, 302);
    assert.match(step.headers.get('location'), /^\/login\?/, 'sent to the sign-in page');
    const second = await login(base, admin, app, { prompt: 'login' });
    const t2 = decodeJwt(second.tokens.id_token).auth_time;
    assert.ok(t2 > t1, `auth_time ${t2} > ${t1}`);
  });

  test('prompt=none without a session redirects with login_required', async () => {
    const stranger = admin.anotherBrowser();
    const q = authorizeQuery(app, { prompt: 'none' });
    const { location } = await stranger.walk(`/authorize?${q}`, { signIn: false });
    const p = new URL(location).searchParams;
    assert.ok(location.startsWith(CALLBACK));
    assert.equal(p.get('error'), 'login_required');
    assert.equal(p.get('state'), q.get('state'));
  });

  test('prompt=none with a session returns a code silently with the same sub', async () => {
    const first = await login(base, admin, app);
    const q = authorizeQuery(app, { prompt: 'none' });
    const { location } = await admin.walk(`/authorize?${q}`, { signIn: false });
    const code = new URL(location).searchParams.get('code');
    assert.ok(code, location);
    const t = await exchange(base, app, code);
    assert.equal(decodeJwt(t.json.id_token).sub, decodeJwt(first.tokens.id_token).sub);
  });

  test('max_age=1 after a second forces a sign-in; max_age=10000 does not', async () => {
    const first = await login(base, admin, app);
    const before = decodeJwt(first.tokens.id_token).auth_time;
    await sleep(2100);
    const step = await admin.fetch(`/authorize?${authorizeQuery(app, { max_age: '1' })}`);
    assert.match(step.headers.get('location'), /^\/login\?/);
    const { tokens } = await login(base, admin, app, { max_age: '1' });
    const after = decodeJwt(tokens.id_token).auth_time;
    assert.ok(after > before);
    const silent = await admin.fetch(`/authorize?${authorizeQuery(app, { max_age: '10000' })}`);
    assert.ok(silent.headers.get('location').startsWith(CALLBACK), 'no sign-in needed');
  });

  test('prompt=none with id_token_hint of the current user succeeds silently', async () => {
    const { tokens } = await login(base, admin, app);
    const q = authorizeQuery(app, { prompt: 'none', id_token_hint: tokens.id_token });
    const { location } = await admin.walk(`/authorize?${q}`, { signIn: false });
    assert.ok(new URL(location).searchParams.get('code'), location);
  });

  test('code reuse is invalid_grant and revokes the tokens it issued, also 30 s later', async () => {
    const { params } = await authorize(admin, app);
    const code = params.get('code');
    const first = await exchange(base, app, code);
    assert.equal(first.status, 200);
    assert.equal((await userinfo(base, first.json.access_token)).status, 200);
    const replay = await exchange(base, app, code);
    assert.equal(replay.status, 400);
    assert.equal(replay.json.error, 'invalid_grant');
    assert.equal((await userinfo(base, first.json.access_token)).status, 401);
    const refresh = await tokenRequest(base, app, {
      grant_type: 'refresh_token',
      refresh_token: first.json.refresh_token,
    });
    assert.equal(refresh.json.error, 'invalid_grant', 'the refresh token died with the grant');
    // "30 s later" is a clock statement: revocation is a stored fact, not a timer. Check again
    // after a pause that crosses second boundaries.
    await sleep(1500);
    assert.equal((await userinfo(base, first.json.access_token)).status, 401);
  });

  test('a redirect_uri with anything appended gets an error page and no redirect', async () => {
    for (const uri of [`${CALLBACK}/extra`, `${CALLBACK}?x=1`, `${CALLBACK}x`, 'https://evil.example.com/cb']) {
      const res = await admin.fetch(`/authorize?${authorizeQuery(app, { redirect_uri: uri })}`);
      assert.equal(res.status, 400, uri);
      assert.equal(res.headers.get('location'), null, uri);
      assert.match(res.headers.get('content-type'), /text\/html/);
      assert.match(await res.text(), /not registered/);
    }
    const unknown = await admin.fetch(`/authorize?${authorizeQuery({ id: 'nope' })}`);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers.get('location'), null);
  });

  test('the authorization request also works as a POST form', async () => {
    const q = authorizeQuery(app);
    const { location } = await admin.walk('/authorize', {
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: q.toString(),
      },
    });
    const p = new URL(location).searchParams;
    assert.ok(p.get('code'));
    assert.equal(p.get('state'), q.get('state'));
  });

  test('response_mode=fragment puts the code, state and iss in the fragment, and the code works', async () => {
    const q = authorizeQuery(app, { response_mode: 'fragment' });
    const { location } = await admin.walk(`/authorize?${q}`);
    const url = new URL(location);
    assert.equal(url.searchParams.get('code'), null, 'nothing in the query');
    const f = new URLSearchParams(url.hash.slice(1));
    assert.equal(f.get('state'), q.get('state'));
    assert.equal(f.get('iss'), base);
    const { status } = await exchange(base, app, f.get('code'));
    assert.equal(status, 200);
    const meta = (await getJson(`${base}/.well-known/openid-configuration`)).body;
    assert.ok(meta.response_modes_supported.includes('fragment'));
  });

  test('an unsigned request object and a foreign request_uri are refused with their error codes', async () => {
    // Unverified, the object's redirect_uri cannot be trusted: a page, not a redirect (RFC 9101 §6.2).
    const r1 = await admin.walk(`/authorize?${authorizeQuery(app, { request: 'eyJhbGciOiJub25lIn0.e30.' })}`);
    assert.equal(r1.location, undefined);
    assert.equal(r1.res.status, 400);
    assert.match(await r1.res.text(), /invalid_request_object/);
    const r2 = await admin.walk(`/authorize?${authorizeQuery(app, { request_uri: 'https://x.example/r' })}`);
    assert.equal(new URL(r2.location).searchParams.get('error'), 'request_uri_not_supported');
  });

  test('refresh works, rotates, keeps iss/sub/aud/auth_time, and is bound to its client', async () => {
    const { tokens } = await login(base, admin, app);
    const r = await tokenRequest(base, app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.notEqual(r.json.access_token, tokens.access_token);
    assert.notEqual(r.json.refresh_token, tokens.refresh_token);
    const a = decodeJwt(tokens.id_token);
    const b = decodeJwt(r.json.id_token);
    for (const c of ['iss', 'sub', 'aud', 'auth_time']) assert.deepEqual(b[c], a[c], c);
    await verifyIdToken(base, r.json.id_token, app.id);
    assert.equal((await userinfo(base, r.json.access_token)).status, 200);
    // Another client cannot use this client's refresh token.
    const other = await createClient(base, apiKey, { name: 'Other' });
    const stolen = await tokenRequest(base, other, { grant_type: 'refresh_token', refresh_token: r.json.refresh_token });
    assert.equal(stolen.json.error, 'invalid_grant');
    // Reusing the rotated-away token revokes the whole family. (A repeat within the grace
    // period would still get the same successor; once that successor has been used, a repeat
    // is reuse whatever the time.)
    const r2 = await tokenRequest(base, app, { grant_type: 'refresh_token', refresh_token: r.json.refresh_token });
    assert.equal(r2.status, 200, JSON.stringify(r2.json));
    const reuse = await tokenRequest(base, app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(reuse.json.error, 'invalid_grant');
    assert.equal((await userinfo(base, r2.json.access_token)).status, 401);
    const after = await tokenRequest(base, app, { grant_type: 'refresh_token', refresh_token: r2.json.refresh_token });
    assert.equal(after.json.error, 'invalid_grant');
  });

  test('PKCE S256: the right verifier succeeds, a wrong one fails', async () => {
    const { verifier, challenge } = pkcePair();
    const ok = await authorize(admin, app, { code_challenge: challenge, code_challenge_method: 'S256' });
    const good = await exchange(base, app, ok.params.get('code'), { code_verifier: verifier });
    assert.equal(good.status, 200);
    const bad = await authorize(admin, app, { code_challenge: challenge, code_challenge_method: 'S256' });
    const wrong = await exchange(base, app, bad.params.get('code'), { code_verifier: pkcePair().verifier });
    assert.equal(wrong.json.error, 'invalid_grant');
    const missing = await authorize(admin, app, { code_challenge: challenge, code_challenge_method: 'S256' });
    assert.equal((await exchange(base, app, missing.params.get('code'))).json.error, 'invalid_grant');
  });

  test('a wrong client secret is invalid_client with 401 and a Basic challenge', async () => {
    const { params } = await authorize(admin, app);
    const res = await exchange(base, { ...app, client_secret: 'wrong' }, params.get('code'));
    assert.equal(res.status, 401);
    assert.equal(res.json.error, 'invalid_client');
    assert.match(res.headers.get('www-authenticate'), /^Basic /);
    // The failed attempt did not burn the code.
    assert.equal((await exchange(base, app, params.get('code'))).status, 200);
    const grant = await tokenRequest(base, app, { grant_type: 'password', username: 'x' });
    assert.equal(grant.json.error, 'unsupported_grant_type');
  });
});

describe('RP-initiated logout plan', () => {
  async function endSession(person, params, method = 'GET') {
    const q = new URLSearchParams(params);
    return method === 'GET'
      ? person.fetch(`/api/oidc/end-session?${q}`)
      : person.fetch('/api/oidc/end-session', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: q.toString(),
        });
  }

  async function signedOut(person) {
    const q = authorizeQuery(app, { prompt: 'none' });
    const { location } = await person.walk(`/authorize?${q}`, { signIn: false });
    return new URL(location).searchParams.get('error') === 'login_required';
  }

  test('id_token_hint + registered post_logout_redirect_uri + state redirects there; prompt=none then fails', async () => {
    const browser = admin.anotherBrowser();
    await browser.signIn();
    const { tokens } = await login(base, browser, app);
    const res = await endSession(browser, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: LOGOUT_CALLBACK,
      state: 'bye-state',
    });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${LOGOUT_CALLBACK}?state=bye-state`);
    assert.ok(await signedOut(browser));
  });

  test('with a hint but without post_logout_redirect_uri (with or without state) the user is signed out', async () => {
    for (const extra of [{}, { state: 'only-state' }]) {
      const browser = admin.anotherBrowser();
      await browser.signIn();
      const { tokens } = await login(base, browser, app);
      const res = await endSession(browser, { id_token_hint: tokens.id_token, ...extra });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /signed out/i);
      assert.ok(await signedOut(browser));
    }
  });

  test('with no parameters the user confirms and is signed out, never redirected', async () => {
    const browser = admin.anotherBrowser();
    await browser.signIn();
    const page = await endSession(browser, {});
    assert.equal(page.status, 200);
    const html = await page.text();
    const csrf = html.match(/name="csrf_token" value="([^"]+)"/)[1];
    const done = await endSession(browser, { csrf_token: csrf }, 'POST');
    assert.equal(done.status, 200);
    assert.equal(done.headers.get('location'), null);
    assert.ok(await signedOut(browser));
  });

  test('unregistered or altered post_logout_redirect_uri, missing hint, alg:none or foreign hints never redirect', async () => {
    const browser = admin.anotherBrowser();
    await browser.signIn();
    const { tokens } = await login(base, browser, app);
    const claims = decodeJwt(tokens.id_token);
    const unsigned = new UnsecuredJWT(claims).encode();
    const { privateKey } = await generateKeyPair('RS256');
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: decodeProtectedHeader(tokens.id_token).kid }).sign(privateKey);
    const cases = [
      { id_token_hint: tokens.id_token, post_logout_redirect_uri: 'https://evil.example.com/bye' },
      { id_token_hint: tokens.id_token, post_logout_redirect_uri: `${LOGOUT_CALLBACK}?x=1` },
      { post_logout_redirect_uri: LOGOUT_CALLBACK },
      { id_token_hint: unsigned, post_logout_redirect_uri: LOGOUT_CALLBACK },
      { id_token_hint: foreign, post_logout_redirect_uri: LOGOUT_CALLBACK },
    ];
    for (const params of cases) {
      const res = await endSession(browser, params);
      assert.equal(res.headers.get('location'), null, JSON.stringify(params));
      assert.ok([200, 400].includes(res.status));
    }
    assert.equal(await signedOut(browser), false, 'refused requests did not sign the user out');
  });
});
