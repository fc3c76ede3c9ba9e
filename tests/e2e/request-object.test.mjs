// Issue 15, part 5: request objects (RFC 9101, JAR) signed with the client's registered keys.
// openid-client's buildAuthorizationUrlWithJAR signs the request for a private_key_jwt client
// (inline JWKS), a person signs in, and the code becomes tokens; the same object pushed
// (buildAuthorizationUrlWithPAR). jose-made objects for the refusals: wrong aud, expired,
// unsigned (alg none), HS256, wrong key, another client's object, a client without keys; a
// refusal is a page (its redirect_uri is not trusted), or a JSON error at the PAR endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { SignJWT, UnsecuredJWT, generateKeyPair, exportJWK } from 'jose';
import { createTenant, tfetch, getJson } from './lib/env.mjs';
import { tenantWithAdmin, adminApi } from './lib/person.mjs';
import { CALLBACK, createClient, discover } from './lib/oidc.mjs';

let A; // { tenant, base, admin, apiKey }
let key; // the key client's signing key
let keyClient; // a private_key_jwt client with an inline JWKS
let plainClient; // a client with a secret and no keys


function configFor(id, auth) {
  return discover(A.base, id, { auth });
}

async function keyPair(alg = 'ES256') {
  const kid = randomBytes(6).toString('hex');
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid }, kid, alg };
}

/** A request object's claims for `clientId`, with overrides (null drops a claim). */
function objectClaims(clientId, overrides = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: clientId, aud: A.base, client_id: clientId, iat: now, exp: now + 300,
    response_type: 'code', redirect_uri: CALLBACK, scope: 'openid email', state: 'st-object',
    ...overrides,
  };
  for (const [k, v] of Object.entries(claims)) if (v === null) delete claims[k];
  return claims;
}

function sign(claims, signingKey = key) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, typ: 'oauth-authz-req+jwt' })
    .sign(signingKey.privateKey);
}

/** /authorize with `client_id` and `request` (and decoy query parameters): status and body. */
async function authorizeWith(clientId, jwt) {
  const q = new URLSearchParams({
    client_id: clientId, request: jwt,
    // Decoys: an unregistered redirect_uri in the query must never be used.
    redirect_uri: 'https://evil.example.com/cb', response_type: 'code', scope: 'openid',
  });
  const res = await tfetch(`${A.base}/authorize?${q}`);
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

async function assertRefusedPage(clientId, jwt, why, pattern) {
  const r = await authorizeWith(clientId, jwt);
  assert.equal(r.status, 400, `${why}: ${r.status} ${r.location}`);
  assert.equal(r.location, null, `${why}: never redirected`);
  assert.match(r.body, /invalid_request_object/, why);
  if (pattern) assert.match(r.body, pattern, why);
}

before(async () => {
  A = await tenantWithAdmin(createTenant, 'request-object');
  key = await keyPair('ES256');
  const made = await adminApi(A.base, A.apiKey, 'POST', '/api/oidc/clients', {
    name: 'JAR app', callback_urls: [CALLBACK], token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [key.jwk] },
  });
  assert.equal(made.status, 201, made.text);
  keyClient = made.json;
  plainClient = await createClient(A.base, A.apiKey, { name: 'No keys', callback_urls: [CALLBACK] });
});

after(() => A.admin.cleanup());

test('discovery advertises request objects and their algorithms', async () => {
  const { body } = await getJson(`${A.base}/.well-known/openid-configuration`);
  assert.equal(body.request_parameter_supported, true);
  assert.equal(body.request_uri_parameter_supported, false);
  assert.deepEqual(body.request_object_signing_alg_values_supported, ['RS256', 'ES256', 'EdDSA', 'Ed25519']);
});

/** openid-client's code flow for the key client through `build` (JAR, or JAR then PAR). */
async function codeFlow(build) {
  const config = await configFor(keyClient.id, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = await build(config, {
    redirect_uri: CALLBACK, scope: 'openid email', state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const { location } = await A.admin.walk(url.pathname + url.search);
  assert.ok(location?.startsWith(CALLBACK), `a redirect to the client, got ${location}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  assert.equal(tokens.claims().aud, keyClient.id);
  assert.equal(tokens.claims().nonce, nonce);
  assert.ok(tokens.scope.split(' ').includes('email'));
  return url;
}

test('openid-client signs the request (JAR): a person signs in and the client gets tokens', async () => {
  const url = await codeFlow((config, params) =>
    oidc.buildAuthorizationUrlWithJAR(config, params, { key: key.privateKey, kid: key.kid }));
  // Only client_id and the object travel in the URL.
  assert.ok(url.searchParams.get('request'));
  assert.equal(url.searchParams.get('redirect_uri'), null);
});

test('the signed request pushed (JAR + PAR) yields tokens too', async () => {
  const url = await codeFlow(async (config, params) => {
    const jar = await oidc.buildAuthorizationUrlWithJAR(config, params, { key: key.privateKey, kid: key.kid });
    return oidc.buildAuthorizationUrlWithPAR(config, jar.searchParams);
  });
  assert.match(url.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);
});

test('refused objects are error pages, never redirects', async () => {
  const id = keyClient.id;
  await assertRefusedPage(id, await sign(objectClaims(id, { aud: 'https://other.example.com' })), 'wrong aud', /aud/);
  const past = Math.floor(Date.now() / 1000) - 600;
  await assertRefusedPage(id, await sign(objectClaims(id, { exp: past, iat: past - 60 })), 'expired', /expired/);
  await assertRefusedPage(id, await sign(objectClaims(id, { exp: null })), 'no exp', /exp/);
  await assertRefusedPage(id, new UnsecuredJWT(objectClaims(id)).encode(), 'alg none', /must be signed/);
  const hs = await new SignJWT(objectClaims(id)).setProtectedHeader({ alg: 'HS256' }).sign(randomBytes(32));
  await assertRefusedPage(id, hs, 'HS256', /hashes of client secrets/);
  const stranger = { ...(await keyPair('ES256')), kid: key.kid };
  await assertRefusedPage(id, await sign(objectClaims(id), stranger), 'wrong key', /signature/);
  // An object made for another client, sent under this client's id.
  await assertRefusedPage(id, await sign(objectClaims(plainClient.id)), 'another client_id', /iss/);
  await assertRefusedPage(id, await sign(objectClaims(id, { client_id: plainClient.id })), 'client_id claim', /client_id/);
  await assertRefusedPage(plainClient.id, await sign(objectClaims(plainClient.id)), 'client without keys',
    /no registered keys/);
});

test('a verified object with a bad parameter is answered at its redirect_uri', async () => {
  const r = await authorizeWith(keyClient.id, await sign(objectClaims(keyClient.id, { scope: 'email' })));
  assert.equal(r.status, 302);
  const back = new URL(r.location);
  assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
  assert.equal(back.searchParams.get('error'), 'invalid_scope');
  assert.equal(back.searchParams.get('state'), 'st-object');
});

test('the PAR endpoint refuses a bad object with invalid_request_object', async () => {
  const config = await configFor(keyClient.id, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
  const bad = await sign(objectClaims(keyClient.id, { aud: 'https://other.example.com' }));
  await assert.rejects(
    oidc.buildAuthorizationUrlWithPAR(config, { client_id: keyClient.id, request: bad }),
    (e) => e.error === 'invalid_request_object' && /aud/.test(e.error_description),
  );
});
