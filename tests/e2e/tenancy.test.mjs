// Issue 2: tenancy, operator API, signing keys, discovery and JWKS through the real Worker.
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import {
  PORT, operator, createTenant, tenantBase, tfetch, getJson, uniqueSlug, runScheduled,
} from './lib/env.mjs';
import { adminApi } from './lib/person.mjs';

/** The key-promotion trigger (src/tenancy/keys.rs PROMOTION_CRON, wrangler.toml). */
const PROMOTION_CRON = '47 * * * *';
const kidOf = (token) => decodeProtectedHeader(token).kid;

async function selfTestTokens(slug) {
  const res = await operator('POST', `/tenants/${slug}/keys/self-test`);
  assert.equal(res.status, 200, res.text);
  return res.json.tokens;
}

async function jwksOf(base) {
  const { status, body } = await getJson(`${base}/.well-known/jwks.json`);
  assert.equal(status, 200);
  return body;
}

test('two tenants get their own issuer and their own keys', async () => {
  const a = await createTenant('iss-a');
  const b = await createTenant('iss-b');
  const da = await getJson(`${tenantBase(a.slug)}/.well-known/openid-configuration`);
  const db = await getJson(`${tenantBase(b.slug)}/.well-known/openid-configuration`);
  assert.equal(da.body.issuer, tenantBase(a.slug));
  assert.equal(db.body.issuer, tenantBase(b.slug));
  assert.equal(da.body.jwks_uri, `${tenantBase(a.slug)}/.well-known/jwks.json`);
  assert.deepEqual(da.body.id_token_signing_alg_values_supported, ['RS256', 'ES256']);
  assert.deepEqual(da.body.subject_types_supported, ['public']);
  for (const flag of ['request_parameter_supported', 'request_uri_parameter_supported', 'claims_parameter_supported']) {
    assert.equal(typeof da.body[flag], 'boolean', flag);
  }
  const ka = (await jwksOf(tenantBase(a.slug))).keys.map((k) => k.kid);
  const kb = (await jwksOf(tenantBase(b.slug))).keys.map((k) => k.kid);
  assert.equal(ka.length, 2);
  assert.equal(new Set([...ka, ...kb]).size, 4, 'no key is shared between tenants');
});

test('a third-party JOSE library verifies RS256 and ES256 tokens against the tenant JWKS', async () => {
  const a = await createTenant('jose-a');
  const b = await createTenant('jose-b');
  const tokens = await selfTestTokens(a.slug);
  const jwksA = createLocalJWKSet(await jwksOf(tenantBase(a.slug)));
  const jwksB = createLocalJWKSet(await jwksOf(tenantBase(b.slug)));
  for (const alg of ['RS256', 'ES256']) {
    assert.equal(decodeProtectedHeader(tokens[alg]).alg, alg);
    const { payload, protectedHeader } = await jwtVerify(tokens[alg], jwksA, {
      issuer: tenantBase(a.slug),
      audience: 'edge-id-self-test',
      algorithms: [alg],
    });
    assert.equal(payload.sub, 'self-test');
    assert.ok(protectedHeader.kid);
    await assert.rejects(jwtVerify(tokens[alg], jwksB), 'tenant B must not verify tenant A tokens');
  }
});

test('JWKS holds only RSA and EC signing keys with distinct kids (no OKP: Cloudflare Access)', async () => {
  const a = await createTenant('jwks');
  const { keys } = await jwksOf(tenantBase(a.slug));
  assert.deepEqual(keys.map((k) => k.kty).sort(), ['EC', 'RSA']);
  for (const k of keys) {
    assert.equal(k.use, 'sig');
    assert.ok(['RS256', 'ES256'].includes(k.alg));
    assert.equal(k.d, undefined, 'no private material');
  }
  assert.equal(new Set(keys.map((k) => k.kid)).size, keys.length);
});

test('discovery and JWKS are cacheable and served without D1 queries', async () => {
  const a = await createTenant('cache');
  for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks.json', '/.well-known/oauth-authorization-server']) {
    await tfetch(`${tenantBase(a.slug)}${path}`); // warm the isolate's tenant cache
    const res = await tfetch(`${tenantBase(a.slug)}${path}`);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('cache-control'), /public, max-age=\d+/);
    assert.equal(res.headers.get('x-edge-id-d1-queries'), '0', `${path} hit D1`);
    assert.match(res.headers.get('content-type'), /application\/json/);
  }
});

test('the pages\' static files come from Workers Static Assets, cacheable for a year', async () => {
  const a = await createTenant('assets');
  const page = await (await tfetch(`${tenantBase(a.slug)}/login`)).text();
  const src = page.match(/src="(\/static\/passkey\.js\?v=[0-9a-f]{16})"/)?.[1];
  assert.ok(src, `no versioned passkey.js in the login page: ${page}`);
  const res = await tfetch(`${tenantBase(a.slug)}${src}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^(text|application)\/javascript/);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable'); // ui/public/_headers
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('referrer-policy'), 'same-origin');
  assert.equal(res.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains');
  // The asset server answered, not the Worker (which stamps every response with its timing).
  assert.equal(res.headers.get('x-edge-id-timing'), null);
  assert.equal(await res.text(), readFileSync(new URL('../../ui/public/static/passkey.js', import.meta.url), 'utf8'));
  // A file the asset server does not have reaches the Worker, which has no route for it; the
  // headers file is configuration, not an asset.
  for (const path of ['/static/unknown.js', '/_headers']) {
    const missing = await tfetch(`${tenantBase(a.slug)}${path}`);
    assert.equal(missing.status, 404, path);
    assert.notEqual(missing.headers.get('x-edge-id-timing'), null, `${path}: the Worker answers`);
    await missing.arrayBuffer();
  }
});

test('an unknown host is rejected with a clear 404, never another tenant', async () => {
  await createTenant('known');
  const host = `http://${uniqueSlug('nobody')}.localhost:${PORT}`;
  const api = await getJson(`${host}/.well-known/openid-configuration`);
  assert.equal(api.status, 404);
  assert.equal(api.body.error, 'unknown_tenant');
  const page = await tfetch(`${host}/`);
  assert.equal(page.status, 404);
  assert.match(page.headers.get('content-type'), /text\/html/);
  assert.match(await page.text(), /No identity provider is served at this address/);
  // Two labels below the base are not a tenant even if the first label is one.
  const a = await createTenant('deep');
  const deep = await getJson(`http://x.${a.slug}.localhost:${PORT}/.well-known/openid-configuration`);
  assert.equal(deep.status, 404);
});

test('the operator API rejects a missing or wrong secret', async () => {
  const none = await operator('GET', '/tenants', undefined, null);
  assert.equal(none.status, 401);
  const wrong = await operator('GET', '/tenants', undefined, 'not-the-secret');
  assert.equal(wrong.status, 401);
  const create = await operator('POST', '/tenants', { slug: uniqueSlug('evil'), display_name: 'x' }, 'nope');
  assert.equal(create.status, 401);
  // ...and the operator API is not reachable on a tenant host.
  const a = await createTenant('opt');
  const onTenant = await tfetch(`${tenantBase(a.slug)}/operator/api/tenants`, {
    headers: { authorization: `Bearer ${process.env.EDGE_ID_OPERATOR_SECRET}` },
  });
  assert.equal(onTenant.status, 404);
});

test('the operator API validates input and lists, gets and deletes tenants', async () => {
  assert.equal((await operator('POST', '/tenants', { slug: 'A!', display_name: 'x' })).status, 400);
  assert.equal((await operator('POST', '/tenants', { slug: 'admin', display_name: 'x' })).status, 400);
  assert.equal((await operator('POST', '/tenants', { slug: uniqueSlug(), display_name: '' })).status, 400);
  const a = await createTenant('crud', 'Crud Corp');
  assert.match(a.setup_url, new RegExp(`^${tenantBase(a.slug)}/setup/[A-Za-z0-9_-]{43}$`));
  assert.equal((await operator('POST', '/tenants', { slug: a.slug, display_name: 'again' })).status, 409);
  const list = await operator('GET', '/tenants');
  assert.ok(list.json.tenants.some((t) => t.slug === a.slug && t.display_name === 'Crud Corp'));
  const got = await operator('GET', `/tenants/${a.slug}`);
  assert.equal(got.json.issuer, tenantBase(a.slug));
  assert.equal((await operator('DELETE', `/tenants/${a.slug}`)).status, 200);
  assert.equal((await operator('GET', `/tenants/${a.slug}`)).status, 404);
  const gone = await tfetch(`${tenantBase(a.slug)}/.well-known/openid-configuration`);
  assert.equal(gone.status, 404);
});

test('a suspended tenant serves nothing until resumed', async () => {
  const a = await createTenant('susp');
  const url = `${tenantBase(a.slug)}/.well-known/openid-configuration`;
  assert.equal((await tfetch(url)).status, 200);
  assert.equal((await operator('POST', `/tenants/${a.slug}/suspend`)).json.status, 'suspended');
  for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks.json', '/', '/authorize']) {
    const res = await tfetch(`${tenantBase(a.slug)}${path}`);
    assert.equal(res.status, 404, path);
  }
  assert.equal((await operator('POST', `/tenants/${a.slug}/resume`)).json.status, 'active');
  assert.equal((await tfetch(url)).status, 200);
});

test('a custom domain serves its tenant with its own issuer', async () => {
  const a = await createTenant('dom');
  const host = `login.${a.slug}-corp.test`;
  const added = await operator('POST', `/tenants/${a.slug}/domains`, { host });
  assert.equal(added.status, 201, added.text);
  assert.deepEqual(added.json.domains, [host]);
  const d = await getJson(`http://${host}:${PORT}/.well-known/openid-configuration`);
  assert.equal(d.status, 200);
  // Not loopback: the issuer is https even though this local request is plain http.
  assert.equal(d.body.issuer, `https://${host}:${PORT}`);
  const kidsCustom = (await jwksOf(`http://${host}:${PORT}`)).keys.map((k) => k.kid).sort();
  const kidsSlug = (await jwksOf(tenantBase(a.slug))).keys.map((k) => k.kid).sort();
  assert.deepEqual(kidsCustom, kidsSlug);
  const b = await createTenant('dom-b');
  assert.equal((await operator('POST', `/tenants/${b.slug}/domains`, { host })).status, 409);
  assert.equal((await operator('POST', `/tenants/${b.slug}/domains`, { host: `x.localhost` })).status, 400);
  assert.equal((await operator('DELETE', `/tenants/${a.slug}/domains/${host}`)).status, 200);
  assert.equal((await tfetch(`http://${host}:${PORT}/.well-known/openid-configuration`)).status, 404);
});

test('an emergency rotation makes a new key current at once and keeps the old one published for the overlap', async () => {
  const a = await createTenant('rot');
  const before = await selfTestTokens(a.slug);
  const oldKid = decodeProtectedHeader(before.RS256).kid;
  const rotated = await operator('POST', `/tenants/${a.slug}/keys/rotate`, { alg: 'RS256', overlap_days: 7, immediate: true });
  assert.equal(rotated.status, 200, rotated.text);
  const after = await selfTestTokens(a.slug);
  const newKid = decodeProtectedHeader(after.RS256).kid;
  assert.notEqual(newKid, oldKid);
  assert.deepEqual(rotated.json.keys, [{ alg: 'RS256', kid: newKid, status: 'current', signs_from: rotated.json.keys[0].signs_from }]);
  assert.equal(decodeProtectedHeader(after.ES256).kid, decodeProtectedHeader(before.ES256).kid);
  const jwks = await jwksOf(tenantBase(a.slug));
  assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [oldKid, newKid, decodeProtectedHeader(after.ES256).kid].sort());
  const set = createLocalJWKSet(jwks);
  await jwtVerify(before.RS256, set);
  await jwtVerify(after.RS256, set);
  // Overlap 0: the retired key leaves the JWKS at once.
  await operator('POST', `/tenants/${a.slug}/keys/rotate`, { alg: 'RS256', overlap_days: 0, immediate: true });
  const kids = (await jwksOf(tenantBase(a.slug))).keys.map((k) => k.kid);
  assert.ok(!kids.includes(newKid), 'a key retired with no overlap is unpublished at once');
  assert.ok(kids.includes(oldKid), 'the key retired with a 7-day overlap stays');
  assert.equal(kids.length, 3);
});

test('a rotation publishes the new key first and signs with it only once every cached JWKS holds it', async () => {
  const a = await createTenant('rollover');
  const base = tenantBase(a.slug);
  // A relying party that fetched the JWKS before the rotation and keeps it as long as the
  // response allows (go-oidc v2 does, and never re-fetches for an unknown kid).
  const first = await tfetch(`${base}/.well-known/jwks.json`);
  const cacheControl = first.headers.get('cache-control');
  const maxAge = Number(cacheControl.match(/max-age=(\d+)/)[1]);
  const staleWhileRevalidate = Number(cacheControl.match(/stale-while-revalidate=(\d+)/)[1]);
  const cachedJwks = createLocalJWKSet(await first.json());
  const before = await selfTestTokens(a.slug);
  const oldKid = kidOf(before.RS256);

  const rotated = await operator('POST', `/tenants/${a.slug}/keys/rotate`, { alg: 'RS256' });
  assert.equal(rotated.status, 200, rotated.text);
  // Not signing yet: the client's copy from before the rotation verifies what is issued now.
  const issued = await selfTestTokens(a.slug);
  assert.equal(kidOf(issued.RS256), oldKid, 'the new key signs before any cached JWKS holds it');
  for (const alg of ['RS256', 'ES256']) await jwtVerify(issued[alg], cachedJwks);
  // ...but published at once.
  const [next] = rotated.json.keys;
  assert.equal(next.status, 'next');
  const fresh = await jwksOf(base);
  assert.ok(fresh.keys.some((k) => k.kid === next.kid), 'the next key is published at once');
  const keysNow = (await operator('GET', `/tenants/${a.slug}`)).json.keys;
  const publishedAt = keysNow.find((k) => k.kid === next.kid).created_at;
  assert.deepEqual(keysNow.filter((k) => k.alg === 'RS256').map((k) => [k.kid, k.status]).sort(),
    [[next.kid, 'next'], [oldKid, 'current']].sort());
  assert.ok(next.signs_from - publishedAt >= maxAge + staleWhileRevalidate,
    `signs after ${next.signs_from - publishedAt}s, caches may hold the JWKS ${maxAge + staleWhileRevalidate}s`);

  // The promotion trigger before the key has been published for max-age +
  // stale-while-revalidate changes nothing.
  await runScheduled(PROMOTION_CRON, (publishedAt + maxAge + staleWhileRevalidate - 1) * 1000);
  const stillOld = await selfTestTokens(a.slug);
  assert.equal(kidOf(stillOld.RS256), oldKid, 'promoted before every cached JWKS could hold the key');
  await jwtVerify(stillOld.RS256, cachedJwks);
  const served = await tfetch(`${base}/.well-known/openid-configuration`);
  assert.equal(served.status, 200);

  // Once it has been (signs_from): the new key signs. Every client holds a JWKS fetched after
  // the rotation by then, and that JWKS verifies the new tokens.
  await runScheduled(PROMOTION_CRON, next.signs_from * 1000);
  const promoted = await selfTestTokens(a.slug);
  assert.equal(kidOf(promoted.RS256), next.kid);
  await jwtVerify(promoted.RS256, createLocalJWKSet(fresh));
  // The old key stays published for the overlap, so tokens it signed keep verifying.
  const afterJwks = createLocalJWKSet(await jwksOf(base));
  await jwtVerify(before.RS256, afterJwks);
  await jwtVerify(promoted.RS256, afterJwks);
  const states = (await operator('GET', `/tenants/${a.slug}`)).json.keys.filter((k) => k.alg === 'RS256');
  assert.deepEqual(states.map((k) => [k.kid, k.status]).sort(), [[next.kid, 'current'], [oldKid, 'retired']].sort());
  assert.ok(states.find((k) => k.kid === oldKid).published_until >= next.signs_from + 7 * 86400);
});

test('an emergency rotation drops a pending key and signs at once', async () => {
  const a = await createTenant('urgent');
  const oldKid = kidOf((await selfTestTokens(a.slug)).RS256);
  const pending = (await operator('POST', `/tenants/${a.slug}/keys/rotate`, { alg: 'RS256' })).json.keys[0];
  assert.equal(pending.status, 'next');
  const urgent = await operator('POST', `/tenants/${a.slug}/keys/rotate`, { alg: 'RS256', immediate: true, overlap_days: 1 });
  assert.equal(urgent.status, 200, urgent.text);
  const [key] = urgent.json.keys;
  assert.equal(key.status, 'current');
  assert.equal(kidOf((await selfTestTokens(a.slug)).RS256), key.kid);
  const kids = (await jwksOf(tenantBase(a.slug))).keys.map((k) => k.kid);
  assert.ok(kids.includes(oldKid), 'the replaced key stays published for its overlap');
  assert.ok(!kids.includes(pending.kid), 'the pending key, which never signed, is gone');
  // ...and is not promoted over the emergency key later.
  await runScheduled(PROMOTION_CRON, (pending.signs_from + 3600) * 1000);
  assert.equal(kidOf((await selfTestTokens(a.slug)).RS256), key.kid);
});

test('the operator API refuses malformed bodies and mints or rotates nothing', async () => {
  const a = await createTenant('strict');
  const base = tenantBase(a.slug);
  const lister = await operator('POST', `/tenants/${a.slug}/api-keys`, { name: 'lister', expires_in_days: 1 });
  assert.equal(lister.status, 201, lister.text);
  const apiKeys = async () => (await adminApi(base, lister.json.api_key, 'GET', '/api/api-keys')).json.data.map((k) => k.id);
  const keysBefore = await apiKeys();
  for (const [body, field, code = 'invalid_request'] of [
    ['{"expires_in_days":"30"}', 'expires_in_days'],
    ['{"expires_in_days":30.5}', 'expires_in_days'],
    ['{"expires_in_days":1e30}', 'expires_in_days'],
    ['{"expires_in_days":null}', 'expires_in_days'],
    ['{"expires_in_days":0}', 'expires_in_days', 'invalid_field'],
    ['{"expire_in_days":30}', 'expire_in_days'],
    ['{"name":7}', 'name'],
    ['{"expires_in_days":30,}', undefined],
    ['{"expires_in_days":30', undefined],
    ['[30]', undefined],
  ]) {
    const res = await operator('POST', `/tenants/${a.slug}/api-keys`, body);
    assert.equal(res.status, 400, `${body} -> ${res.status} ${res.text}`);
    // A body that is not what the route takes is invalid_request; a well-formed value out of
    // range is invalid_field, as in the admin API. Both name the field when there is one.
    assert.equal(res.json.error, code, res.text);
    assert.equal(res.json.field, field, `${body}: ${res.text}`);
  }
  assert.deepEqual(await apiKeys(), keysBefore, 'a malformed body minted a key');
  // Everything is optional there: an empty body is a key that never expires, as documented.
  const empty = await operator('POST', `/tenants/${a.slug}/api-keys`, '');
  assert.equal(empty.status, 201, empty.text);
  assert.equal(empty.json.expires_at, null);

  const kids = async () => (await jwksOf(base)).keys.map((k) => k.kid).sort();
  const signing = async () => Object.values(await selfTestTokens(a.slug)).map(kidOf).sort();
  const [jwksBefore, signingBefore] = [await kids(), await signing()];
  for (const [body, field] of [
    ['{"alg":256}', 'alg'],
    ['{"alg":"HS256"}', 'alg'],
    ['{"alg":"RS256",}', undefined],
    ['{"overlap_days":"7"}', 'overlap_days'],
    ['{"overlap_days":1.5}', 'overlap_days'],
    ['{"immediate":"yes"}', 'immediate'],
    ['{"algorithm":"RS256"}', 'algorithm'],
    ['null', undefined],
  ]) {
    const res = await operator('POST', `/tenants/${a.slug}/keys/rotate`, body);
    assert.equal(res.status, 400, `${body} -> ${res.status} ${res.text}`);
    assert.equal(res.json.field, field, `${body}: ${res.text}`);
  }
  assert.deepEqual(await kids(), jwksBefore, 'a malformed body rotated a key');
  assert.deepEqual(await signing(), signingBefore);
  // Create and domain bodies are required.
  assert.equal((await operator('POST', '/tenants', '')).status, 400);
  const domain = await operator('POST', `/tenants/${a.slug}/domains`, '{"host":["x.example"]}');
  assert.equal(domain.status, 400);
  assert.equal(domain.json.field, 'host');
});

test('after delete and remove_domain the host answers 404 at once, even with requests in flight', async () => {
  // Requests keep arriving while the operator writes: a request served between a cache
  // invalidation and the D1 write it was for would cache the old tenant again.
  const hammer = (url) => {
    let stop = false;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) await tfetch(url).then((r) => r.arrayBuffer()).catch(() => {});
    });
    return async () => {
      stop = true;
      await Promise.all(loops);
    };
  };
  for (let round = 0; round < 3; round++) {
    const a = await createTenant('gone');
    const host = `login.${a.slug}-corp.test`;
    assert.equal((await operator('POST', `/tenants/${a.slug}/domains`, { host })).status, 201);
    const onDomain = `http://${host}:${PORT}/.well-known/openid-configuration`;
    const onSlug = `${tenantBase(a.slug)}/.well-known/jwks.json`;
    assert.equal((await tfetch(onDomain)).status, 200);

    let stop = hammer(onDomain);
    const removed = await operator('DELETE', `/tenants/${a.slug}/domains/${host}`);
    await stop();
    assert.equal(removed.status, 200, removed.text);
    assert.equal((await tfetch(onDomain)).status, 404, 'the removed domain still serves the tenant');

    stop = hammer(onSlug);
    const deleted = await operator('DELETE', `/tenants/${a.slug}`);
    await stop();
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal((await tfetch(onSlug)).status, 404, 'the deleted tenant is still served');
  }
});
