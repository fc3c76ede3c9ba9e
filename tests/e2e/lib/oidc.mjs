// Helpers for the OpenID Connect suites: clients through the admin API, raw authorization
// requests, token calls and id_token verification with a third-party JOSE library.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as openidClient from 'openid-client';
import { tfetch } from './env.mjs';
import { adminApi } from './person.mjs';

export const CALLBACK = 'https://app.example.com/cb';
export const LOGOUT_CALLBACK = 'https://app.example.com/bye';

export async function createClient(base, apiKey, extra = {}) {
  const res = await adminApi(base, apiKey, 'POST', '/api/oidc/clients', {
    name: 'Test App',
    callback_urls: [CALLBACK],
    logout_callback_urls: [LOGOUT_CALLBACK],
    ...extra,
  });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** The query of an authorization request for `client`, with overrides (null removes). */
export function authorizeQuery(client, overrides = {}) {
  const params = {
    response_type: 'code',
    client_id: client.id,
    redirect_uri: CALLBACK,
    scope: 'openid email profile',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    ...overrides,
  };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) q.set(k, v);
  return q;
}

/**
 * Runs an authorization request for `person` (signing in if needed) and returns the parameters
 * the client receives at its redirect URI.
 */
export async function authorize(person, client, overrides = {}, opts = {}) {
  const q = authorizeQuery(client, overrides);
  const { res, location } = await person.walk(`/authorize?${q}`, opts);
  assert.ok(location, `expected a redirect to the client, got ${res.status}: ${await res.text()}`);
  assert.ok(location.startsWith(CALLBACK), location);
  return { params: new URL(location).searchParams, sent: q };
}

function basic(id, secret) {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** Introspects `token` (RFC 7662) as `client` (HTTP Basic): { status, json, headers }. */
export async function introspect(base, client, token) {
  const res = await tfetch(`${base}/api/oidc/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.client_secret) },
    body: new URLSearchParams({ token }),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

/** POSTs a form to the token endpoint; `auth` is 'basic' | 'post' | 'none'. */
export async function tokenRequest(base, client, form, auth = 'basic') {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(form);
  if (auth === 'basic') headers.authorization = basic(client.id, client.client_secret);
  if (auth === 'post') {
    body.set('client_id', client.id);
    body.set('client_secret', client.client_secret);
  }
  if (auth === 'none') body.set('client_id', client.id);
  const res = await tfetch(`${base}/api/oidc/token`, { method: 'POST', headers, body });
  const json = await res.json();
  return { status: res.status, json, headers: res.headers };
}

export async function exchange(base, client, code, extra = {}, auth = 'basic') {
  return tokenRequest(
    base,
    client,
    { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, ...extra },
    auth,
  );
}

export async function verifyIdToken(base, idToken, audience) {
  const jwks = await (await tfetch(`${base}/.well-known/jwks.json`)).json();
  const { payload, protectedHeader } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
    issuer: base,
    audience,
  });
  return { payload, header: protectedHeader };
}

/** OIDC Core §3.1.3.6: left half of SHA-256 of the access token. */
export function atHash(accessToken) {
  return createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
}

export async function userinfo(base, accessToken, how = 'get') {
  const init =
    how === 'get'
      ? { headers: { authorization: `Bearer ${accessToken}` } }
      : how === 'post-header'
        ? { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } }
        : {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ access_token: accessToken }),
          };
  const res = await tfetch(`${base}/api/oidc/userinfo`, init);
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** A full code flow for `person` ending with the token response. */
export async function login(base, person, client, overrides = {}) {
  const { params, sent } = await authorize(person, client, overrides);
  const tokens = await exchange(base, client, params.get('code'));
  assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  return { params, sent, tokens: tokens.json };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** fetch() for openid-client, pinned to loopback like every request of the tests. */
export const loopbackFetch = (url, options) => tfetch(url, options);

/**
 * openid-client's configuration for `clientId` at the tenant `base`, from its discovery
 * document, over loopback: `auth` is an openid-client ClientAuth (`undefined` with a
 * `clientSecret`: client_secret_basic).
 */
export async function discover(base, clientId, { auth, clientSecret } = {}) {
  const config = await openidClient.discovery(new URL(base), clientId, clientSecret, auth, {
    execute: [openidClient.allowInsecureRequests],
    [openidClient.customFetch]: loopbackFetch,
  });
  config[openidClient.customFetch] = loopbackFetch;
  return config;
}
