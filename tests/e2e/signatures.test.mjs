// Signatures the Worker verifies with WebCrypto (issue 14): passkey attestations and keys at
// registration, passkey assertions at sign-in and
// id_token_hints at /authorize. Genuine ones must pass (ES256 assertions arrive DER-encoded and
// are converted to raw r||s first), and anything altered must be refused: a verifier that
// accepted everything, or a wrong conversion, fails here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant } from './lib/env.mjs';
import { Person, adminApi, softAuth, tenantWithAdmin } from './lib/person.mjs';
import { packedRegistration } from './lib/packed.mjs';
import { CALLBACK, createClient, authorizeQuery, login } from './lib/oidc.mjs';

let T; // { tenant, base, admin, apiKey }

before(async () => {
  T = await tenantWithAdmin(createTenant, 'sig');
});

after(() => T.admin.cleanup());

/** A fresh browser of the admin and its sign-in response (not yet sent). The challenge is
 * sealed to the browser that started the ceremony, so the same one must finish it. */
async function assertion() {
  const browser = T.admin.anotherBrowser();
  const { options } = await browser.postJson('/api/webauthn/login/start', {});
  const credential = await softAuth(['login', '--state', browser.state, '--origin', T.base], options);
  return { browser, credential };
}

async function finish({ browser, credential }) {
  const res = await browser.fetch('/api/webauthn/login/finish', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ credential, next: '/account' }),
  });
  const signedIn = browser.cookies.has('eid_session') && res.status === 200;
  return { status: res.status, signedIn, text: await res.text() };
}

test('genuine passkey assertions verify, again and again (DER integers of every length)', async () => {
  // About half of ECDSA signatures have an r or s that DER pads with a zero byte, and some are
  // shorter than 32 bytes: ten sign-ins all but surely meet both forms.
  for (let i = 0; i < 10; i++) {
    const done = await finish(await assertion());
    assert.equal(done.status, 200, `sign-in ${i}`);
    assert.ok(done.signedIn);
  }
});

test('an altered signature, or a genuine signature over other data, is refused', async () => {
  const flipped = await assertion();
  const sig = Buffer.from(flipped.credential.response.signature, 'base64url');
  sig[sig.length - 1] ^= 1;
  flipped.credential.response.signature = sig.toString('base64url');
  const refused = await finish(flipped);
  assert.equal(refused.status, 400, 'a flipped bit in the signature');
  assert.equal(refused.signedIn, false);
  // Refused for its signature, not for anything checked before it (an expired challenge).
  assert.doesNotMatch(refused.text, /expired/);

  // Well-formed DER by the right key, but made for another challenge.
  const [a, b] = [await assertion(), await assertion()];
  a.credential.response.signature = b.credential.response.signature;
  const swapped = await finish(a);
  assert.equal(swapped.status, 400, 'the signature of another assertion');
  assert.equal(swapped.signedIn, false);
  assert.doesNotMatch(swapped.text, /expired/);
});

test('a challenge works only in the browser that asked for it, and only once', async () => {
  const mine = await assertion();
  const stolen = await finish({ browser: T.admin.anotherBrowser(), credential: mine.credential });
  assert.equal(stolen.status, 400, 'another browser');
  assert.match(stolen.text, /expired/);
  assert.equal(stolen.signedIn, false);
  assert.equal((await finish(mine)).status, 200, 'its own browser');
  // A replay is refused before its batch could spend anything: its signature counter no longer
  // grows, so it reads as a cloned credential (and is audited so); without a counter, the spent
  // challenge refuses it.
  const replay = await finish(mine);
  assert.equal(replay.status, 400, 'a replay');
  assert.match(replay.text, /expired|cloned/);
  assert.equal(replay.signedIn, false);
});

for (const alg of ['ES256', 'RS256']) {
  test(`id_token_hint (${alg}): a genuine one is accepted at /authorize, one with altered claims is refused`, async () => {
    const client = await createClient(T.base, T.apiKey, { name: `Hint ${alg}`, id_token_signed_response_alg: alg });
    const { tokens } = await login(T.base, T.admin, client);
    const ask = (hint) => T.admin.fetch(`/authorize?${authorizeQuery(client, { prompt: 'none', id_token_hint: hint })}`);

    const ok = new URL((await ask(tokens.id_token)).headers.get('location'));
    assert.ok(ok.toString().startsWith(CALLBACK));
    assert.ok(ok.searchParams.get('code'), ok.toString());

    // Same header and signature, other claims: only the signature can tell.
    const [header, payload, signature] = tokens.id_token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url'));
    claims.nonce = 'altered';
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const refused = new URL((await ask(forged)).headers.get('location'));
    assert.equal(refused.searchParams.get('error'), 'invalid_request', refused.toString());
    assert.equal(refused.searchParams.get('code'), null);
  });
}

/** Registers `credential` (made from fresh creation options) through a new invite. */
async function register(makeCredential) {
  const invite = await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens');
  assert.equal(invite.status, 201, invite.text);
  const person = new Person(T.base);
  try {
    const token = new URL(invite.json.url).pathname.split('/').pop();
    const n = Math.random().toString(36).slice(2, 8);
    const profile = { username: `p${n}`, email: `p${n}@example.com`, first_name: 'P' };
    const { options } = await person.postJson('/api/webauthn/register/start', { token, profile });
    const res = await person.fetch('/api/webauthn/register/finish', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ credential: makeCredential(options) }),
    });
    return { status: res.status, text: await res.text() };
  } finally {
    person.cleanup();
  }
}

test('packed self-attestation: a genuine signature registers, an altered one or a key off the curve does not', async () => {
  const genuine = await register((o) => packedRegistration(o, T.base));
  assert.equal(genuine.status, 200, genuine.text);
  const altered = await register((o) => packedRegistration(o, T.base, 'signature'));
  assert.equal(altered.status, 400, altered.text);
  const offCurve = await register((o) => packedRegistration(o, T.base, 'off-curve'));
  assert.equal(offCurve.status, 400, offCurve.text);
});
