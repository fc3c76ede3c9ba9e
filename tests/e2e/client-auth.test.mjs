// Issue 15, parts 9 and 4: client authentication. Several secrets per client with expiry
// (rotation without downtime, driven by openid-client's client_credentials), and
// private_key_jwt (RFC 7523): openid-client's PrivateKeyJwt for client_credentials and the code
// flow, keys registered inline or served at a jwks_uri by a tiny server here; raw requests
// signed with jose for the error cases (wrong aud, expired, replayed jti, wrong key, alg none
// and HS256, a secret presented by a private_key_jwt client).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { SignJWT, generateKeyPair, exportJWK, base64url } from 'jose';
import { createTenant, tfetch, getJson } from './lib/env.mjs';
import { tenantWithAdmin, adminApi } from './lib/person.mjs';
import { CALLBACK, createClient, sleep, discover } from './lib/oidc.mjs';

const ORDERS = 'https://orders.example.com/api';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let A; // { tenant, base, admin, apiKey }
let jwksServer; // serves `served` at /jwks.json
let served = { keys: [] };
let jwksUrl;


/** openid-client's configuration for client `id` authenticating with `auth`. */
function configFor(id, auth) {
  return discover(A.base, id, { auth });
}

/** The OAuth error of a refused openid-client call (a 401 arrives as its challenge). */
async function refusal(promise) {
  try {
    await promise;
  } catch (e) {
    if (e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE') {
      assert.equal(e.status, 401);
      return (await e.response.json()).error;
    }
    return e.error ?? e.code;
  }
  assert.fail('the call was not refused');
}

async function grantOrders(client) {
  const res = await adminApi(A.base, A.apiKey, 'PUT', `/api/oidc/clients/${client.id}/api-permissions`, {
    grants: [{ api: ORDERS, permissions: ['read:orders'] }],
  });
  assert.equal(res.status, 200, res.text);
}

/** client_credentials with a secret through openid-client: the token or the error code. */
async function withSecret(client, secret) {
  const config = await configFor(client.id, oidc.ClientSecretBasic(secret));
  return oidc.clientCredentialsGrant(config, { resource: ORDERS });
}

/** A client key pair: jose's private key and the public JWK (kid set, no alg: as JWKS often are). */
async function keyPair(alg = 'ES256', kid = randomBytes(6).toString('hex')) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid };
  return { privateKey, jwk, kid, alg };
}

/** A client assertion for `clientId` signed with `key`, with claim overrides (null drops). */
async function assertion(clientId, key, overrides = {}, header = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: clientId, sub: clientId, aud: `${A.base}/api/oidc/token`, iat: now, exp: now + 60,
    jti: randomBytes(12).toString('base64url'), ...overrides };
  for (const [k, v] of Object.entries(claims)) if (v === null) delete claims[k];
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** A raw client_credentials request authenticated with `jwt` (and more form fields / headers). */
async function rawToken(jwt, extra = {}, headers = {}) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', resource: ORDERS,
    client_assertion_type: JWT_BEARER, client_assertion: jwt, ...extra });
  const res = await tfetch(`${A.base}/api/oidc/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body,
  });
  return { status: res.status, json: await res.json() };
}

function assertInvalidClient(r, why, pattern) {
  assert.equal(r.status, 401, `${why}: ${JSON.stringify(r.json)}`);
  assert.equal(r.json.error, 'invalid_client', why);
  if (pattern) assert.match(r.json.error_description, pattern, why);
}

before(async () => {
  A = await tenantWithAdmin(createTenant, 'client-auth');
  const api = await adminApi(A.base, A.apiKey, 'POST', '/api/apis', {
    identifier: ORDERS, name: 'Orders', permissions: [{ value: 'read:orders', description: 'Read' }],
  });
  assert.equal(api.status, 201, api.text);
  jwksServer = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(served));
  });
  await new Promise((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${jwksServer.address().port}/jwks.json`;
});

after(() => {
  jwksServer?.close();
  A.admin.cleanup();
});

test('discovery advertises private_key_jwt and its signing algorithms', async () => {
  const { body } = await getJson(`${A.base}/.well-known/openid-configuration`);
  assert.ok(body.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.deepEqual(body.token_endpoint_auth_signing_alg_values_supported, ['RS256', 'ES256', 'EdDSA', 'Ed25519']);
});

test('secrets: a second one works alongside the first, a rotation with a grace period keeps the old one until it expires', async () => {
  const client = await createClient(A.base, A.apiKey, { name: 'Rotating', callback_urls: [] });
  await grantOrders(client);
  const first = client.client_secret;
  assert.equal(client.secrets.length, 1);
  assert.equal(client.secrets[0].secret_hash, undefined);
  assert.ok((await withSecret(client, first)).access_token);

  // Add a second secret: both work.
  const added = await adminApi(A.base, A.apiKey, 'POST', `/api/oidc/clients/${client.id}/secrets`, {});
  assert.equal(added.status, 201, added.text);
  const second = added.json.client_secret;
  assert.ok((await withSecret(client, first)).access_token, 'the first still works');
  assert.ok((await withSecret(client, second)).access_token, 'the second works');

  // Rotate with a 3 s grace period: all three work now; after it, only the newest.
  const rotated = await adminApi(A.base, A.apiKey, 'POST', `/api/oidc/clients/${client.id}/secret?grace_period=3`);
  assert.equal(rotated.status, 200, rotated.text);
  const third = rotated.json.client_secret;
  const listed = await adminApi(A.base, A.apiKey, 'GET', `/api/oidc/clients/${client.id}/secrets`);
  assert.equal(listed.json.data.length, 3);
  assert.ok(listed.json.data.every((s) => !JSON.stringify(s).includes(first) && s.secret_hash === undefined));
  assert.deepEqual(listed.json.data.map((s) => s.expires_at === null), [false, false, true]);
  for (const s of [first, second, third]) assert.ok((await withSecret(client, s)).access_token, 'no downtime');
  await sleep(4000);
  assert.equal(await refusal(withSecret(client, first)), 'invalid_client', 'expired');
  assert.equal(await refusal(withSecret(client, second)), 'invalid_client', 'expired');
  assert.ok((await withSecret(client, third)).access_token);

  // A secret that expires in the past is refused at creation; deleting stops one at once;
  // the last one is kept.
  const past = await adminApi(A.base, A.apiKey, 'POST', `/api/oidc/clients/${client.id}/secrets`, { expires_at: 1 });
  assert.equal(past.status, 400);
  const fourth = await adminApi(A.base, A.apiKey, 'POST', `/api/oidc/clients/${client.id}/secrets`, {
    expires_at: Math.floor(Date.now() / 1000) + 3600,
  });
  assert.ok((await withSecret(client, fourth.json.client_secret)).access_token);
  const del = await adminApi(A.base, A.apiKey, 'DELETE', `/api/oidc/clients/${client.id}/secrets/${fourth.json.id}`);
  assert.equal(del.status, 204, del.text);
  assert.equal(await refusal(withSecret(client, fourth.json.client_secret)), 'invalid_client', 'deleted');
  const remaining = (await adminApi(A.base, A.apiKey, 'GET', `/api/oidc/clients/${client.id}/secrets`)).json.data;
  for (const s of remaining.slice(0, -1)) {
    const r = await adminApi(A.base, A.apiKey, 'DELETE', `/api/oidc/clients/${client.id}/secrets/${s.id}`);
    assert.equal(r.status, 204, r.text);
  }
  const last = await adminApi(A.base, A.apiKey, 'DELETE', `/api/oidc/clients/${client.id}/secrets/${remaining.at(-1).id}`);
  assert.equal(last.status, 409, 'the last secret is kept');
  assert.ok((await withSecret(client, third)).access_token);
  const audit = await adminApi(A.base, A.apiKey, 'GET', `/api/audit-logs?client_id=${client.id}&limit=50`);
  const events = audit.json.data.map((e) => e.event);
  for (const e of ['client_secret_added', 'client_secret_regenerated', 'client_secret_deleted']) assert.ok(events.includes(e), e);
});

test('private_key_jwt with inline keys: openid-client gets client_credentials tokens; secrets are refused for it', async () => {
  const key = await keyPair('ES256');
  const made = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', {
    name: 'Key machine', callback_urls: [], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] },
  });
  assert.equal(made.status, 201, made.text);
  const machine = made.json;
  assert.equal(machine.client_secret, undefined, 'no secret for a private_key_jwt client');
  assert.equal(machine.token_endpoint_auth_method, 'private_key_jwt');
  await grantOrders(machine);
  const config = await configFor(machine.id, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
  const tokens = await oidc.clientCredentialsGrant(config, { resource: ORDERS });
  assert.equal(tokens.scope, 'read:orders');
  // Twice in a row: each call signs a new assertion (new jti).
  assert.ok((await oidc.clientCredentialsGrant(config, { resource: ORDERS })).access_token);

  // The error cases, with raw requests signed by jose.
  const ok = await assertion(machine.id, key);
  assert.equal((await rawToken(ok)).status, 200);
  assertInvalidClient(await rawToken(ok), 'replayed jti', /already used/);
  assertInvalidClient(await rawToken(await assertion(machine.id, key, { aud: 'https://elsewhere.example.com/token' })), 'wrong aud', /aud/);
  const now = Math.floor(Date.now() / 1000);
  assertInvalidClient(await rawToken(await assertion(machine.id, key, { iat: now - 600, exp: now - 300 })), 'expired', /expired/);
  assertInvalidClient(await rawToken(await assertion(machine.id, key, { exp: now + 3600 })), 'too long-lived', /ahead/);
  assertInvalidClient(await rawToken(await assertion(machine.id, key, { jti: null })), 'no jti', /jti/);
  assertInvalidClient(await rawToken(await assertion(machine.id, key, { iss: 'someone-else' })), 'iss', /iss/);
  const stranger = await keyPair('ES256', key.kid);
  assertInvalidClient(await rawToken(await assertion(machine.id, stranger)), 'wrong key, same kid', /signature/);
  const unknownKid = await keyPair('ES256');
  assertInvalidClient(await rawToken(await assertion(machine.id, unknownKid)), 'unknown kid', /keys/);
  // alg none, and HS256 keyed with what an attacker could know (the public key's x).
  const claims = base64url.encode(JSON.stringify({ iss: machine.id, sub: machine.id, aud: A.base, exp: now + 60, jti: 'none-1' }));
  const none = `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${claims}.`;
  assertInvalidClient(await rawToken(none), 'alg none');
  const hs = await new SignJWT({ iss: machine.id, sub: machine.id, aud: A.base, exp: now + 60, jti: 'hs-1' })
    .setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(key.jwk.x));
  assertInvalidClient(await rawToken(hs), 'HS256', /HS256/);
  // A secret presented by (or for) a private_key_jwt client, and both methods at once.
  assert.equal(await refusal(withSecret(machine, 'whatever')), 'invalid_client');
  const both = await rawToken(await assertion(machine.id, key), { client_secret: 'x' });
  assert.equal(both.status, 400, JSON.stringify(both.json));
  // The assertion type is required.
  const untyped = await rawToken(await assertion(machine.id, key), { client_assertion_type: 'urn:other' });
  assertInvalidClient(untyped, 'wrong assertion type', /client_assertion_type/);
});

test('a secret client cannot authenticate with an assertion', async () => {
  const key = await keyPair('ES256');
  const client = await createClient(A.base, A.apiKey, { name: 'Secret machine', callback_urls: [] });
  await grantOrders(client);
  assertInvalidClient(await rawToken(await assertion(client.id, key)), 'assertion for a secret client', /private_key_jwt/);
});

test('private_key_jwt with a jwks_uri: keys are fetched, and fetched again when the client rotates its key', async () => {
  const first = await keyPair('RS256');
  served = { keys: [first.jwk] };
  const made = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', {
    name: 'Remote keys', callback_urls: [], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUrl,
  });
  assert.equal(made.status, 201, made.text);
  await grantOrders(made.json);
  const id = made.json.id;
  // A raw request first, so a refusal shows its description.
  const raw = await rawToken(await assertion(id, first));
  assert.equal(raw.status, 200, JSON.stringify(raw.json));
  const config = await configFor(id, oidc.PrivateKeyJwt({ key: first.privateKey, kid: first.kid }));
  assert.ok((await oidc.clientCredentialsGrant(config, { resource: ORDERS })).access_token);
  // The client rotates to an Ed25519 key with a new kid: the cached set lacks it, so it is
  // fetched again.
  const next = await keyPair('EdDSA');
  served = { keys: [first.jwk, next.jwk] };
  const rawNext = await rawToken(await assertion(id, next));
  assert.equal(rawNext.status, 200, JSON.stringify(rawNext.json));
  const rotated = await configFor(id, oidc.PrivateKeyJwt({ key: next.privateKey, kid: next.kid }));
  assert.ok((await oidc.clientCredentialsGrant(rotated, { resource: ORDERS })).access_token);
  // An http jwks_uri outside loopback is refused at registration.
  const bad = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', {
    name: 'Bad keys', callback_urls: [], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://keys.example.com/jwks',
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.field, 'jwks_uri');
});

test('private_key_jwt in the code flow: openid-client redeems the code and refreshes with assertions', async () => {
  const key = await keyPair('ES256');
  const made = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', {
    name: 'Key web app', callback_urls: [CALLBACK], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] },
  });
  assert.equal(made.status, 201, made.text);
  const config = await configFor(made.json.id, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK, scope: 'openid email offline_access', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const { location } = await A.admin.walk(url.pathname + url.search);
  assert.ok(location?.startsWith(CALLBACK), `a redirect to the client, got ${location}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true,
  });
  assert.equal(tokens.claims().aud, made.json.id);
  assert.ok(tokens.refresh_token);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  // Introspection and revocation take the assertion too.
  const introspected = await oidc.tokenIntrospection(config, refreshed.access_token);
  assert.equal(introspected.active, true);
  await oidc.tokenRevocation(config, refreshed.refresh_token);
  assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, false);
});

test('federated client credentials: a token from a trusted issuer (discovery + JWKS served here) about the trusted subject authenticates the client', async () => {
  const issuerKey = await keyPair('RS256');
  const issuerServer = createServer((req, res) => {
    const base = `http://127.0.0.1:${issuerServer.address().port}`;
    const docs = {
      '/.well-known/openid-configuration': { issuer: base, jwks_uri: `${base}/keys` },
      '/keys': { keys: [issuerKey.jwk] },
    };
    const doc = docs[req.url];
    res.writeHead(doc ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(doc ?? {}));
  });
  await new Promise((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${issuerServer.address().port}`;
  try {
    const subject = 'system:serviceaccount:ci:deployer';
    const made = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', {
      name: 'Deployer', callback_urls: [], token_endpoint_auth_method: 'private_key_jwt',
      federated_credentials: [{ issuer, subject, audience: 'edge-id' }],
    });
    assert.equal(made.status, 201, made.text);
    assert.deepEqual(made.json.federated_credentials, [{ issuer, subject, audience: 'edge-id' }]);
    await grantOrders(made.json);
    // The issuer's own token (a Kubernetes service account token would look like this): its
    // iss and sub are the issuer's, so the client_id is sent along.
    const external = (overrides = {}) => assertion(subject, issuerKey, { iss: issuer, aud: 'edge-id', exp: Math.floor(Date.now() / 1000) + 600, ...overrides });
    const token = await external();
    const ok = await rawToken(token, { client_id: made.json.id });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assertInvalidClient(await rawToken(token, { client_id: made.json.id }), 'replayed', /already used/);
    assertInvalidClient(await rawToken(await external({ sub: 'system:serviceaccount:ci:other' }), { client_id: made.json.id }),
      'another subject', /trusts no federated credential/);
    assertInvalidClient(await rawToken(await external({ aud: A.base }), { client_id: made.json.id }), 'another audience', /aud/);
    const stranger = await keyPair('RS256', issuerKey.kid);
    assertInvalidClient(await rawToken(await assertion(subject, stranger, { iss: issuer, aud: 'edge-id' }), { client_id: made.json.id }),
      'signed by another key', /signature/);
  } finally {
    issuerServer.close();
  }
});
