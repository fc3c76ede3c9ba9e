// Issue 15, parts 1 and 2: APIs (resource servers), RFC 9068 JWT access tokens and the
// client_credentials grant, driven by third-party libraries: openid-client gets the tokens,
// jose verifies them against the tenant's JWKS, and a small resource server started here
// accepts only JWT access tokens whose audience is its own identifier.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, customFetch, jwtVerify, decodeJwt } from 'jose';
import { createTenant, tfetch } from './lib/env.mjs';
import { tenantWithAdmin, adminApi } from './lib/person.mjs';
import { CALLBACK, createClient, userinfo, discover, loopbackFetch } from './lib/oidc.mjs';

const ORDERS = 'https://orders.example.com/api';
const BILLING = 'https://billing.example.com';

let A; // { tenant, base, admin, apiKey }
let B;
let server; // the orders resource server
let rsUrl;

/** openid-client's and jose's fetch, pinned to loopback like every test request. */

/** The tenant's JWKS as a resource server fetches it (and caches it) from the issuer. */
function jwksOf(base) {
  return createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), {
    [customFetch]: loopbackFetch,
  });
}

/**
 * A resource server for the API `identifier` of the tenant at `issuer`: it accepts a bearer
 * token only if it is a JWT access token (typ at+jwt) signed by a key of the tenant's JWKS,
 * issued by the tenant, unexpired, and for this API (aud); everything else gets 401.
 */
function resourceServer(issuer, identifier) {
  const jwks = jwksOf(issuer);
  return createServer(async (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    try {
      if (!token) throw new Error('no token');
      const { payload } = await jwtVerify(token, jwks, {
        issuer,
        audience: identifier,
        typ: 'at+jwt',
        requiredClaims: ['sub', 'client_id', 'iat', 'exp', 'jti'],
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ client: payload.client_id, scope: payload.scope ?? '' }));
    } catch (e) {
      res.writeHead(401, {
        'www-authenticate': `Bearer error="invalid_token", error_description="${e.code ?? 'invalid'}"`,
      });
      res.end();
    }
  });
}

async function callApi(token) {
  const res = await fetch(`${rsUrl}/orders`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: res.status === 200 ? await res.json() : undefined };
}

/** openid-client's configuration for a client of tenant A (None() for a public client). */
function configFor(client) {
  const auth = client.client_secret ? oidc.ClientSecretBasic(client.client_secret) : oidc.None();
  return discover(A.base, client.id, { auth });
}

/**
 * The OAuth error code of a refused grant. openid-client reports a 401 with a
 * WWW-Authenticate challenge (RFC 6749 §5.2 for invalid_client) as the challenge, whose
 * response body still carries the error.
 */
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
  assert.fail('the grant was not refused');
}

async function registerApi(identifier, name, permissions) {
  const res = await adminApi(A.base, A.apiKey, 'POST', '/api/apis', {
    identifier,
    name,
    permissions: permissions.map((value) => ({ value, description: `${value} at ${name}` })),
  });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

async function grant(client, grants) {
  const res = await adminApi(A.base, A.apiKey, 'PUT', `/api/oidc/clients/${client.id}/api-permissions`, {
    grants,
  });
  assert.equal(res.status, 200, res.text);
  return res.json.data;
}

let machine; // a confidential client holding read:orders and write:orders at ORDERS
let orders;

before(async () => {
  [A, B] = await Promise.all([
    tenantWithAdmin(createTenant, 'api-a'),
    tenantWithAdmin(createTenant, 'api-b'),
  ]);
  server = resourceServer(A.base, ORDERS);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  rsUrl = `http://127.0.0.1:${server.address().port}`;
  orders = await registerApi(ORDERS, 'Orders', ['read:orders', 'write:orders', 'admin:orders']);
  await registerApi(BILLING, 'Billing', ['read:invoices']);
  // A machine client: confidential, no callback URL (it never sends anyone to /authorize).
  machine = await createClient(A.base, A.apiKey, { name: 'Nightly sync', callback_urls: [], logout_callback_urls: [] });
  assert.deepEqual(machine.callback_urls, []);
  await grant(machine, [
    { api: ORDERS, permissions: ['read:orders', 'write:orders'] },
    { api: BILLING, permissions: ['read:invoices'] },
  ]);
});

after(() => {
  server?.close();
  A.admin.cleanup();
  B.admin.cleanup();
});

test('discovery advertises client_credentials', async () => {
  const config = await configFor(machine);
  assert.ok(config.serverMetadata().grant_types_supported.includes('client_credentials'));
});

test('openid-client: client_credentials gives an RFC 9068 JWT that jose verifies and the resource server accepts', async () => {
  const config = await configFor(machine);
  const tokens = await oidc.clientCredentialsGrant(config, {
    resource: ORDERS,
    scope: 'read:orders',
  });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.equal(tokens.scope, 'read:orders');
  assert.equal(tokens.refresh_token, undefined, 'no refresh token (RFC 6749 §4.4.3)');
  assert.equal(tokens.id_token, undefined, 'no id_token: there is no user');
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwksOf(A.base), {
    issuer: A.base,
    audience: ORDERS,
    typ: 'at+jwt',
  });
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.ok(protectedHeader.kid);
  assert.equal(payload.sub, machine.id);
  assert.equal(payload.client_id, machine.id);
  assert.equal(payload.scope, 'read:orders');
  assert.equal(payload.exp - payload.iat, tokens.expires_in);
  assert.ok(payload.jti.length >= 22);
  const api = await callApi(tokens.access_token);
  assert.equal(api.status, 200);
  assert.deepEqual(api.body, { client: machine.id, scope: 'read:orders' });

  // Without scope: everything the client holds at the API.
  const all = await oidc.clientCredentialsGrant(config, { resource: ORDERS });
  assert.equal(decodeJwt(all.access_token).scope, 'read:orders write:orders');

  // The grant is in the audit log, with the token's jti.
  const log = await adminApi(A.base, A.apiKey, 'GET', `/api/audit-logs?event=token_issued&client_id=${machine.id}`);
  assert.equal(log.status, 200, log.text);
  const details = log.json.data.map((e) => (typeof e.details === 'string' ? JSON.parse(e.details) : e.details));
  const entry = details.find((d) => d.jti === payload.jti);
  assert.ok(entry, JSON.stringify(log.json.data));
  assert.equal(entry.grant_type, 'client_credentials');
  assert.equal(entry.aud, ORDERS);
  assert.equal(entry.scope, 'read:orders');
});

test('the resource server refuses a token for another API, an id_token-like JWT and no token', async () => {
  const config = await configFor(machine);
  const billing = await oidc.clientCredentialsGrant(config, { resource: BILLING });
  assert.equal(decodeJwt(billing.access_token).aud, BILLING);
  assert.equal((await callApi(billing.access_token)).status, 401, 'wrong audience');
  assert.equal((await callApi()).status, 401, 'no token');
  // A token of another tenant for the same identifier: wrong issuer and keys.
  const other = await adminApi(B.base, B.apiKey, 'POST', '/api/apis', {
    identifier: ORDERS,
    name: 'Orders at B',
    permissions: [{ value: 'read:orders' }],
  });
  assert.equal(other.status, 201, 'identifiers are per tenant');
  const bClient = await createClient(B.base, B.apiKey, { name: 'B machine' });
  await adminApi(B.base, B.apiKey, 'PUT', `/api/oidc/clients/${bClient.id}/api-permissions`, {
    grants: [{ api: ORDERS, permissions: ['read:orders'] }],
  });
  const bToken = await tfetch(`${B.base}/api/oidc/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${bClient.id}:${bClient.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: ORDERS }),
  });
  assert.equal(bToken.status, 200);
  assert.equal((await callApi((await bToken.json()).access_token)).status, 401, 'another issuer');
});

test('an API token is not a userinfo token (no audience confusion)', async () => {
  const config = await configFor(machine);
  const tokens = await oidc.clientCredentialsGrant(config, { resource: ORDERS });
  const info = await userinfo(A.base, tokens.access_token);
  assert.equal(info.status, 401);
});

test('openid-client introspects a client_credentials token (RFC 7662): active for its client only', async () => {
  const config = await configFor(machine);
  const tokens = await oidc.clientCredentialsGrant(config, { resource: ORDERS });
  const seen = await oidc.tokenIntrospection(config, tokens.access_token);
  assert.equal(seen.active, true);
  assert.equal(seen.aud, ORDERS);
  assert.equal(seen.client_id, machine.id);
  assert.equal(seen.sub, machine.id);
  assert.equal(seen.scope, tokens.scope);
  assert.equal(seen.auth_time, undefined, 'no person signed in');
  const other = await createClient(A.base, A.apiKey, { name: 'Prying machine' });
  const pried = await oidc.tokenIntrospection(await configFor(other), tokens.access_token);
  assert.equal(pried.active, false);
});

test('RFC error cases: unregistered or missing resource, scope not granted, public client, wrong secret', async () => {
  const config = await configFor(machine);
  assert.equal(
    await refusal(oidc.clientCredentialsGrant(config, { resource: 'https://unknown.example.com' })),
    'invalid_target',
  );
  assert.equal(await refusal(oidc.clientCredentialsGrant(config, {})), 'invalid_target');
  assert.equal(
    await refusal(oidc.clientCredentialsGrant(config, { resource: ORDERS, scope: 'admin:orders' })),
    'invalid_scope',
  );
  assert.equal(
    await refusal(oidc.clientCredentialsGrant(config, { resource: ORDERS, scope: 'read:orders openid' })),
    'invalid_scope',
  );
  const spa = await createClient(A.base, A.apiKey, { name: 'SPA', is_public: true });
  await grant(spa, [{ api: ORDERS, permissions: ['read:orders'] }]);
  assert.equal(
    await refusal(oidc.clientCredentialsGrant(await configFor(spa), { resource: ORDERS })),
    'unauthorized_client',
  );
  const wrong = await configFor({ ...machine, client_secret: 'not-the-secret' });
  assert.equal(await refusal(oidc.clientCredentialsGrant(wrong, { resource: ORDERS })), 'invalid_client');
  const idle = await createClient(A.base, A.apiKey, { name: 'Idle machine' });
  assert.equal(
    await refusal(oidc.clientCredentialsGrant(await configFor(idle), { resource: ORDERS })),
    'invalid_target',
    'a client without permissions at the API cannot target it',
  );
});

test('per-client access token lifetime', async () => {
  const short = await createClient(A.base, A.apiKey, { name: 'Short-lived', access_token_lifetime: 120 });
  assert.equal(short.access_token_lifetime, 120);
  await grant(short, [{ api: ORDERS, permissions: ['read:orders'] }]);
  const tokens = await oidc.clientCredentialsGrant(await configFor(short), { resource: ORDERS });
  assert.equal(tokens.expires_in, 120);
  const claims = decodeJwt(tokens.access_token);
  assert.equal(claims.exp - claims.iat, 120);
  const tooLong = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', {
    name: 'Too long',
    callback_urls: ['https://app.example.com/cb'],
    access_token_lifetime: 7 * 24 * 3600,
  });
  assert.equal(tooLong.status, 400, tooLong.text);
});

test('admin API: APIs and client permissions are validated and per tenant', async () => {
  const dup = await adminApi(A.base, A.apiKey, 'POST', '/api/apis', { identifier: ORDERS, name: 'Again' });
  assert.equal(dup.status, 409, dup.text);
  for (const identifier of ['http://orders.example.com', 'orders', 'https://x.example.com/#f']) {
    const bad = await adminApi(A.base, A.apiKey, 'POST', '/api/apis', { identifier, name: 'Bad' });
    assert.equal(bad.status, 400, `${identifier}: ${bad.text}`);
  }
  const oidcScope = await adminApi(A.base, A.apiKey, 'POST', '/api/apis', {
    identifier: 'https://x.example.com',
    name: 'X',
    permissions: [{ value: 'email' }],
  });
  assert.equal(oidcScope.status, 400, 'an OIDC scope is not an API permission');
  const unknownPermission = await adminApi(A.base, A.apiKey, 'PUT', `/api/oidc/clients/${machine.id}/api-permissions`, {
    grants: [{ api: ORDERS, permissions: ['delete:everything'] }],
  });
  assert.equal(unknownPermission.status, 400, unknownPermission.text);
  const listed = await adminApi(A.base, A.apiKey, 'GET', `/api/oidc/clients/${machine.id}/api-permissions`);
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.json.data.map((g) => [g.identifier, g.permissions]).sort(),
    [[BILLING, ['read:invoices']], [ORDERS, ['read:orders', 'write:orders']]],
  );
  const renamed = await adminApi(A.base, A.apiKey, 'PUT', `/api/apis/${orders.id}`, {
    identifier: 'https://elsewhere.example.com',
    name: 'Orders',
  });
  assert.equal(renamed.status, 400, 'the identifier (audience) is fixed');
  // Tenant B sees none of A's APIs or clients.
  assert.equal((await adminApi(B.base, B.apiKey, 'GET', `/api/apis/${orders.id}`)).status, 404);
  assert.equal(
    (await adminApi(B.base, B.apiKey, 'GET', `/api/oidc/clients/${machine.id}/api-permissions`)).status,
    404,
  );
  const list = await adminApi(B.base, B.apiKey, 'GET', '/api/apis');
  assert.ok(list.json.data.every((api) => api.name !== 'Orders'));
});

test('deleting an API ends client_credentials for it', async () => {
  const temp = await registerApi('https://temp.example.com', 'Temp', ['use']);
  const client = await createClient(A.base, A.apiKey, { name: 'Temp user' });
  await grant(client, [{ api: temp.identifier, permissions: ['use'] }]);
  const config = await configFor(client);
  await oidc.clientCredentialsGrant(config, { resource: temp.identifier });
  assert.equal((await adminApi(A.base, A.apiKey, 'DELETE', `/api/apis/${temp.id}`)).status, 204);
  assert.equal(
    await refusal(oidc.clientCredentialsGrant(config, { resource: temp.identifier })),
    'invalid_target',
  );
});

test('access_token_format jwt (Pocket ID migration): openid-client code flow gets RFC 9068 JWTs that userinfo accepts until revoked', async () => {
  const client = await createClient(A.base, A.apiKey, { name: 'Migrated app', access_token_format: 'jwt' });
  assert.equal(client.access_token_format, 'jwt');
  const config = await configFor(client);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const { location } = await A.admin.walk(url.pathname + url.search);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    idTokenExpected: true,
  });
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwksOf(A.base), {
    issuer: A.base,
    audience: client.id,
    typ: 'at+jwt',
  });
  assert.equal(protectedHeader.typ, 'at+jwt');
  const sub = tokens.claims().sub;
  assert.equal(payload.sub, sub);
  assert.equal(payload.client_id, client.id);
  assert.ok(payload.auth_time);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, sub);
  assert.equal(info.email, 'ada@example.com');
  // The jti alone is no credential.
  assert.equal((await userinfo(A.base, payload.jti)).status, 401);
  // The orders API refuses it: its audience is the client, not the API.
  assert.equal((await callApi(tokens.access_token)).status, 401);
  await oidc.tokenRevocation(config, tokens.access_token);
  assert.equal((await userinfo(A.base, tokens.access_token)).status, 401, 'revoked at once at userinfo');
});

test('resource at /authorize (RFC 8707): openid-client code flow gets a JWT for the API; refresh keeps the audience', async () => {
  const app = await createClient(A.base, A.apiKey, { name: 'Orders web app' });
  await grant(app, [{ api: ORDERS, permissions: ['read:orders'] }]);
  const config = await configFor(app);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid email read:orders write:orders',
    resource: ORDERS,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const { location } = await A.admin.walk(url.pathname + url.search);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    idTokenExpected: true,
  }, { resource: ORDERS });
  // write:orders was asked for but the client does not hold it: dropped, and said so.
  assert.equal(tokens.scope, 'openid email read:orders');
  const { payload } = await jwtVerify(tokens.access_token, jwksOf(A.base), {
    issuer: A.base,
    audience: ORDERS,
    typ: 'at+jwt',
  });
  assert.equal(payload.sub, tokens.claims().sub);
  assert.equal(payload.scope, 'read:orders');
  assert.ok(payload.auth_time);
  const api = await callApi(tokens.access_token);
  assert.equal(api.status, 200);
  assert.equal(api.body.scope, 'read:orders');
  assert.equal((await userinfo(A.base, tokens.access_token)).status, 401, 'an API token is not a userinfo token');
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(decodeJwt(refreshed.access_token).aud, ORDERS);
  assert.equal((await callApi(refreshed.access_token)).status, 200);
  // A resource at /authorize that is no API of the tenant: invalid_target at the token endpoint.
  const unknownState = oidc.randomState();
  const unknown = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid read:orders',
    resource: 'https://unknown.example.com',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: unknownState,
  });
  const back = await A.admin.walk(unknown.pathname + unknown.search);
  assert.equal(
    await refusal(oidc.authorizationCodeGrant(config, new URL(back.location), {
      pkceCodeVerifier: verifier,
      expectedState: unknownState,
    })),
    'invalid_target',
  );
});
