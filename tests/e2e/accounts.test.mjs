// Issue 3: accounts beyond the first admin, through the real Worker: invitations, one-time
// login links (recovery), open sign-up, profile editing and sign-in rate limiting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant, operator, tfetch } from './lib/env.mjs';
import { Person, tenantWithAdmin, adminApi } from './lib/person.mjs';

let T; // { tenant, base, admin, apiKey }
const people = [];

before(async () => {
  T = await tenantWithAdmin(createTenant, 'acct');
});

after(() => {
  T.admin.cleanup();
  for (const p of people) p.cleanup();
});

function person() {
  const p = new Person(T.base);
  people.push(p);
  return p;
}

async function accountCsrf(p) {
  const res = await p.fetch('/account');
  assert.equal(res.status, 200);
  return (await res.text()).match(/data-csrf="([^"]+)"/)[1];
}

test('an invitation link creates one ordinary account, once', async () => {
  const invite = await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens');
  assert.equal(invite.status, 201, invite.text);
  assert.ok(invite.json.url.startsWith(`${T.base}/setup/`));
  const page = await tfetch(invite.json.url);
  assert.equal(page.status, 200);
  const grace = person();
  await grace.signUp(invite.json.url, { username: 'grace', email: 'grace@example.com', first_name: 'Grace', last_name: 'Hopper' });
  assert.equal((await grace.fetch('/account')).status, 200);
  const users = await adminApi(T.base, T.apiKey, 'GET', '/api/users?search=grace');
  assert.equal(users.json.data.length, 1);
  assert.equal(users.json.data[0].is_admin, false);
  const again = person();
  await assert.rejects(
    again.signUp(invite.json.url, { username: 'mallory', email: 'm@example.com', first_name: 'M' }),
    /expired or was already used/,
  );
  assert.equal((await tfetch(invite.json.url)).status, 404);
});

test('a one-time login link signs a user in once (passkey recovery) and only on its tenant', async () => {
  const users = await adminApi(T.base, T.apiKey, 'GET', '/api/users?search=ada');
  const ada = users.json.data[0];
  const link = await adminApi(T.base, T.apiKey, 'POST', `/api/users/${ada.id}/one-time-access-token`);
  assert.equal(link.status, 201, link.text);
  const lost = person(); // a browser with no passkey at all
  const page = await lost.fetch(new URL(link.json.url).pathname);
  assert.equal(page.status, 200);
  const html = await page.text();
  const field = (n) => html.match(new RegExp(`name="${n}" value="([^"]+)"`))[1];
  // GET did not consume it (mail scanners); a cross-site POST is refused.
  const cross = await tfetch(`${T.base}/login/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example.com' },
    body: new URLSearchParams({ token: field('token'), csrf_token: field('csrf_token') }),
  });
  assert.equal(cross.status, 403);
  const post = () =>
    lost.fetch('/login/code', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: field('token'), csrf_token: field('csrf_token') }),
    });
  const ok = await post();
  assert.equal(ok.status, 302);
  assert.equal((await lost.fetch('/account')).status, 200, 'signed in');
  const reuse = await post();
  assert.equal(reuse.status, 400);
  // Another tenant does not know the link.
  const other = await createTenant('acct-other');
  const elsewhere = await tfetch(`${other.issuer}/login/code/${field('token')}`);
  assert.equal(elsewhere.status, 404);
  // Unknown user: 404.
  assert.equal((await adminApi(T.base, T.apiKey, 'POST', '/api/users/nobody/one-time-access-token')).status, 404);
});

test('open sign-up is off by default and works once an admin turns it on', async () => {
  assert.equal((await tfetch(`${T.base}/signup`)).status, 404);
  const eve = person();
  await assert.rejects(
    eve.signUp(`${T.base}/setup/`, { username: 'eve', email: 'eve@example.com', first_name: 'Eve' }),
    /403/,
  );
  const on = await adminApi(T.base, T.apiKey, 'PUT', '/api/application-configuration', { signup_mode: 'open' });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.settings.signup_mode, 'open');
  assert.equal((await tfetch(`${T.base}/signup`)).status, 200);
  assert.match(await (await tfetch(`${T.base}/login`)).text(), /href="\/signup"/);
  await eve.signUp(`${T.base}/setup/`, { username: 'eve', email: 'eve@example.com', first_name: 'Eve' });
  assert.equal((await eve.fetch('/account')).status, 200);
  const off = await adminApi(T.base, T.apiKey, 'PUT', '/api/application-configuration', { signup_mode: 'invite_only' });
  assert.equal(off.status, 200);
  const bad = await adminApi(T.base, T.apiKey, 'PUT', '/api/application-configuration', { accent_color: 'red' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.field, 'accent_color');
});

test('profile editing: allowed fields change, others are refused with the field named', async () => {
  const p = T.admin;
  const csrf = await accountCsrf(p);
  const put = (body, token = csrf) =>
    p.fetch('/api/account/profile', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-csrf-token': token },
      body: JSON.stringify(body),
    });
  const ok = await put({ first_name: 'Augusta Ada', last_name: 'King' });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).display_name, 'Augusta Ada King');
  const email = await put({ email: 'x@example.com' });
  assert.equal(email.status, 400);
  assert.equal((await email.json()).field, 'email');
  assert.equal((await put({ first_name: 'X' }, 'wrong')).status, 403, 'CSRF token required');
  // Admin lets users edit emails; a taken one is refused on that field.
  await adminApi(T.base, T.apiKey, 'PUT', '/api/application-configuration', {
    user_editable_fields: ['first_name', 'last_name', 'email'],
  });
  const taken = await put({ email: 'grace@example.com' });
  assert.equal(taken.status, 400);
  assert.equal((await taken.json()).field, 'email');
  const changed = await put({ email: 'ada.king@example.com', first_name: 'Ada', last_name: 'Lovelace' });
  assert.equal(changed.status, 200);
  const unknown = await put({ is_admin: true });
  assert.equal(unknown.status, 400);
  // Characters that reorder or hide text are refused in every field, naming it.
  for (const [field, value] of [['first_name', 'Ada\u202Eecalevol'], ['last_name', 'Love\u200Blace'], ['email', 'ada\u202E@example.com']]) {
    const res = await put({ [field]: value });
    assert.equal(res.status, 400, `${field}: ${res.status}`);
    const body = await res.json();
    assert.equal(body.field, field);
    assert.match(body.message, /U\+20(2E|0B)/);
  }
  // Passkey names too.
  const ada = (await adminApi(T.base, T.apiKey, 'GET', '/api/users?search=ada.king')).json.data[0];
  const credential = (await adminApi(T.base, T.apiKey, 'GET', `/api/users/${ada.id}`)).json.passkeys[0].credential_id;
  const rename = (name) =>
    p.fetch(`/api/account/passkeys/${encodeURIComponent(credential)}/rename`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ name }),
    });
  const spoofed = await rename('YubiKey\u202E');
  assert.equal(spoofed.status, 400);
  assert.equal((await spoofed.json()).field, 'name');
  assert.equal((await rename('YubiKey')).status, 200);
});

test('passkey sign-in attempts are rate limited per tenant and IP', async () => {
  const fresh = await tenantWithAdmin(createTenant, 'acct-rl');
  const hammer = new Person(fresh.base);
  people.push(hammer);
  let limited;
  // The limiter counts in fixed windows aligned to the clock's minutes: attempts that straddle
  // a minute boundary may all pass, so allow two windows' worth (the loop stops at the first 429).
  for (let i = 0; i < 121 && !limited; i++) {
    const res = await hammer.fetch('/api/webauthn/login/start', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    if (res.status === 429) limited = res;
    else assert.equal(res.status, 200);
  }
  assert.ok(limited, 'the limiter answered 429 within 121 attempts');
  assert.equal(limited.headers.get('retry-after'), '60');
  // Another tenant is not affected.
  const other = await T.admin.fetch('/api/webauthn/login/start', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(other.status, 200);
  fresh.admin.cleanup();
});

test('token endpoint calls over the limit get 429 with Retry-After, not a 5xx', async () => {
  // 600 per minute per tenant and IP: a fresh tenant, and bad codes (each answered 400) until
  // the limiter steps in (within two fixed one-minute windows, should the calls straddle one).
  const fresh = await createTenant('acct-trl');
  const client = await operator('POST', `/tenants/${fresh.slug}/clients`, {
    name: 'Limited',
    callback_urls: ['https://app.example.com/cb'],
  });
  assert.equal(client.status, 201, client.text);
  const basic = Buffer.from(`${client.json.id}:${client.json.client_secret}`).toString('base64');
  const statuses = {};
  let limited;
  let sent = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (!limited && sent < 1201) {
        sent++;
        const res = await tfetch(`${fresh.issuer}/api/oidc/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'authorization_code', code: 'nope', redirect_uri: 'https://app.example.com/cb' }),
        });
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 429) limited = { res, body: await res.json() };
        else await res.arrayBuffer();
      }
    }),
  );
  assert.ok(limited, `the limiter answered 429 within 1201 calls: ${JSON.stringify(statuses)}`);
  assert.deepEqual(Object.keys(statuses).sort(), ['400', '429'], JSON.stringify(statuses));
  assert.equal(limited.res.headers.get('retry-after'), '60');
  assert.equal(limited.body.error, 'temporarily_unavailable');
});

test('an invitation for several accounts puts each in its groups, stops at its uses, and can be revoked', async () => {
  const group = await adminApi(T.base, T.apiKey, 'POST', '/api/user-groups', { name: 'guests', friendly_name: 'Guests' });
  assert.equal(group.status, 201, group.text);
  const invite = await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens', {
    max_uses: 2, email: 'Team@Example.com', group_ids: [group.json.id], expires_in_minutes: 60,
  });
  assert.equal(invite.status, 201, invite.text);
  assert.equal(invite.json.invitation.max_uses, 2);
  assert.equal(invite.json.invitation.status, 'active');
  // The email is prefilled on the form.
  assert.match(await (await tfetch(invite.json.url)).text(), /value="team@example.com"/);
  for (const name of ['guest1', 'guest2']) {
    await person().signUp(invite.json.url, { username: name, email: `${name}@example.com`, first_name: name });
  }
  const members = await adminApi(T.base, T.apiKey, 'GET', `/api/user-groups/${group.json.id}`);
  assert.deepEqual(members.json.members.map((u) => u.name).sort(), ['guest1', 'guest2']);
  // Used up: a branded page with a way to sign in, and the list says so.
  const spent = await tfetch(invite.json.url);
  assert.equal(spent.status, 404);
  const spentPage = await spent.text();
  assert.match(spentPage, /This invitation can&#39;t be used|This invitation can't be used/);
  assert.match(spentPage, /href="\/login"/);
  const listed = await adminApi(T.base, T.apiKey, 'GET', '/api/signup-tokens');
  const mine = listed.json.data.find((i) => i.id === invite.json.invitation.id);
  assert.equal(mine.uses, 2);
  assert.equal(mine.status, 'used_up');
  assert.ok(!JSON.stringify(listed.json).includes(invite.json.token), 'the list never shows links');

  // Revoked: the link stops working at once.
  const other = await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens', {});
  assert.equal((await tfetch(other.json.url)).status, 200);
  assert.equal((await adminApi(T.base, T.apiKey, 'DELETE', `/api/signup-tokens/${other.json.invitation.id}`)).status, 204);
  assert.equal((await tfetch(other.json.url)).status, 404);
  assert.equal((await adminApi(T.base, T.apiKey, 'DELETE', `/api/signup-tokens/${other.json.invitation.id}`)).status, 404);
  // Bad input names the field.
  const bad = await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens', { max_uses: 101 });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.field, 'max_uses');
});
