// Faults: the real Worker behind a D1 double that fails the N-th D1 call of a request
// (tests/faults/entry.mjs; scripts/e2e.sh starts it on EDGE_ID_FAULT_PORT). For each operation
// that writes, every D1 call it makes is failed in turn; each time the client must get a clean,
// typed error (OAuth JSON, API JSON), no partial write may remain, and the retry must succeed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

// This suite's own instance: point the shared helpers at it before they load.
process.env.EDGE_ID_PORT = process.env.EDGE_ID_FAULT_PORT || '0';
const { createTenant, tfetch } = await import('./lib/env.mjs');
const { Person, tenantWithAdmin, adminApi } = await import('./lib/person.mjs');
const { CALLBACK, createClient, authorize, userinfo } = await import('./lib/oidc.mjs');

const skip = !process.env.EDGE_ID_FAULT_PORT && 'the faulty-D1 instance is not running (scripts/e2e.sh starts it)';
let T;
const people = [];

before(async () => {
  if (skip) return;
  T = await tenantWithAdmin(createTenant, 'fault');
});

after(() => {
  T?.admin.cleanup();
  for (const p of people) p.cleanup();
});

const FAULT = 'x-test-d1-fault';

/** The D1 calls a request makes, as the double reports them (it fails none at position 999). */
async function d1Calls(send) {
  const res = await send(999);
  const calls = res.headers.get('x-test-d1-calls');
  assert.ok(calls, 'the double reports the calls');
  return { res, calls: calls.split(',') };
}

/** Asserts a failed call produced a clean, typed JSON error and no internal detail. */
async function assertCleanError(res, style, what) {
  assert.equal(res.status, 500, `${what}: status`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, `${what}: JSON`);
  const body = await res.json();
  assert.equal(body.error, 'server_error', `${what}: error code`);
  assert.doesNotMatch(JSON.stringify(body), /D1_ERROR|injected/, `${what}: no internal detail leaks`);
  if (style === 'oauth') assert.equal(body.message, undefined);
}

function tokenCall(client, form, fault) {
  return tfetch(`${T.base}/api/oidc/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.id}:${client.client_secret}`).toString('base64')}`,
      ...(fault ? { [FAULT]: String(fault) } : {}),
    },
    body: new URLSearchParams(form),
  });
}

function api(method, path, body, fault) {
  return tfetch(`${T.base}${path}`, {
    method,
    headers: {
      'x-api-key': T.apiKey,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(fault ? { [FAULT]: String(fault) } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
}

test('code redemption: a failed D1 call burns nothing, the retry gets the tokens', { skip }, async () => {
  const client = await createClient(T.base, T.apiKey, { name: 'Faulty token app' });
  const code = async () => (await authorize(T.admin, client)).params.get('code');
  const redeem = (c, fault) => tokenCall(client, { grant_type: 'authorization_code', code: c, redirect_uri: CALLBACK }, fault);
  const probe = await code();
  const { res, calls } = await d1Calls((f) => redeem(probe, f));
  assert.equal(res.status, 200);
  for (let n = 1; n <= calls.length; n++) {
    const c = await code();
    await assertCleanError(await redeem(c, n), 'oauth', `token, D1 call ${n} (${calls[n - 1]}) failed`);
    const retry = await redeem(c);
    assert.equal(retry.status, 200, `the code survived the failed call ${n}`);
    const tokens = await retry.json();
    assert.equal((await userinfo(T.base, tokens.access_token)).status, 200);
  }
});

test('refresh: a failed D1 call rotates nothing, the retry with the same token succeeds', { skip }, async () => {
  const client = await createClient(T.base, T.apiKey, { name: 'Faulty refresh app' });
  const first = await tokenCall(client, {
    grant_type: 'authorization_code',
    code: (await authorize(T.admin, client)).params.get('code'),
    redirect_uri: CALLBACK,
  });
  let current = (await first.json()).refresh_token;
  const refresh = (token, fault) => tokenCall(client, { grant_type: 'refresh_token', refresh_token: token }, fault);
  const { res, calls } = await d1Calls((f) => refresh(current, f));
  assert.equal(res.status, 200);
  current = (await res.json()).refresh_token;
  assert.ok(calls.length >= 1);
  for (let n = 1; n <= calls.length; n++) {
    await assertCleanError(await refresh(current, n), 'oauth', `refresh, D1 call ${n} (${calls[n - 1]}) failed`);
    const retry = await refresh(current);
    assert.equal(retry.status, 200, `the refresh token survived the failed call ${n}`);
    const tokens = await retry.json();
    assert.equal((await userinfo(T.base, tokens.access_token)).status, 200);
    current = tokens.refresh_token;
  }
});

test('sign-up: a failed D1 call creates no account and keeps the invitation usable', { skip }, async () => {
  const invite = await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens');
  assert.equal(invite.status, 201);
  const users = async () => (await adminApi(T.base, T.apiKey, 'GET', '/api/users?search=faulty')).json.data.length;
  const finish = (p, credential, fault) => p.fetch('/api/webauthn/register/finish', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(fault ? { [FAULT]: String(fault) } : {}) },
    body: JSON.stringify({ credential }),
  });
  const profile = { username: 'faulty', email: 'faulty@example.com', first_name: 'F' };
  const probePerson = new Person(T.base);
  people.push(probePerson);
  // Learn the calls of a finish that fails at its last call (nothing is committed then).
  const probeCredential = await probePerson.signUpCredential(invite.json.url, profile);
  const { res, calls } = await d1Calls((f) => finish(probePerson, probeCredential, f));
  assert.equal(res.status, 200, 'the probe finished the sign-up');
  // The probe used the invitation: the walk uses fresh invitations from here.
  assert.equal(await users(), 1);
  await adminApi(T.base, T.apiKey, 'DELETE', `/api/users/${(await adminApi(T.base, T.apiKey, 'GET', '/api/users?search=faulty')).json.data[0].id}`);
  for (let n = 1; n <= calls.length; n++) {
    const link = (await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens')).json.url;
    const p = new Person(T.base);
    people.push(p);
    const credential = await p.signUpCredential(link, profile);
    const failed = await finish(p, credential, n);
    await assertCleanError(failed, 'api', `sign-up finish, D1 call ${n} (${calls[n - 1]}) failed`);
    assert.equal(await users(), 0, `no account after the failed call ${n}`);
    // Retrying the ceremony from the start succeeds with the same invitation.
    const again = await p.signUpCredential(link, profile);
    const ok = await finish(p, again);
    assert.equal(ok.status, 200, `sign-up retried after the failed call ${n}`);
    assert.equal(await users(), 1);
    const id = (await adminApi(T.base, T.apiKey, 'GET', '/api/users?search=faulty')).json.data[0].id;
    assert.equal((await adminApi(T.base, T.apiKey, 'DELETE', `/api/users/${id}`)).status, 204);
  }
});

test('settings: a failed D1 call changes nothing, the retry applies the change', { skip }, async () => {
  const get = async () => (await api('GET', '/api/application-configuration')).json();
  const { calls } = await d1Calls((f) => api('PUT', '/api/application-configuration', { accent_color: '#123456' }, f));
  let value = 0x200000;
  for (let n = 1; n <= calls.length; n++) {
    const before = await get();
    const color = `#${(value++).toString(16)}`;
    const failed = await api('PUT', '/api/application-configuration', { accent_color: color }, n);
    await assertCleanError(failed, 'api', `settings, D1 call ${n} (${calls[n - 1]}) failed`);
    // What D1 holds (a PUT answers with the row after its write; GET serves the cached tenant).
    const stored = await (await api('PUT', '/api/application-configuration', { audit_retention_days: 90 + n })).json();
    assert.equal(stored.settings.accent_color, before.settings.accent_color, 'unchanged in D1');
    const retry = await api('PUT', '/api/application-configuration', { accent_color: color });
    assert.equal(retry.status, 200);
    assert.equal((await get()).settings.accent_color, color);
  }
});

test('deleting a group or a client: a failed D1 call deletes nothing, the retry deletes it', { skip }, async () => {
  for (const [kind, create, path, event] of [
    ['group', async (i) => (await adminApi(T.base, T.apiKey, 'POST', '/api/user-groups', { name: `doomed-${i}` })).json.id, '/api/user-groups', 'group_deleted'],
    ['client', async (i) => (await createClient(T.base, T.apiKey, { name: `Doomed ${i}` })).id, '/api/oidc/clients', 'client_deleted'],
  ]) {
    const { res, calls } = await d1Calls(async (f) => api('DELETE', `${path}/${await create('probe')}`, undefined, f));
    assert.equal(res.status, 204, kind);
    for (let n = 1; n <= calls.length; n++) {
      const id = await create(n);
      const entries = async () => (await adminApi(T.base, T.apiKey, 'GET', `/api/audit-logs?event=${event}&limit=100`))
        .json.data.filter((e) => JSON.stringify(e).includes(id)).length;
      await assertCleanError(await api('DELETE', `${path}/${id}`, undefined, n), 'api', `delete ${kind}, call ${n} (${calls[n - 1]})`);
      assert.equal((await api('GET', `${path}/${id}`)).status, 200, `the ${kind} is still there`);
      assert.equal(await entries(), 0, `no ${event} entry for a delete that did not happen`);
      assert.equal((await api('DELETE', `${path}/${id}`)).status, 204);
      assert.equal((await api('GET', `${path}/${id}`)).status, 404);
      assert.equal(await entries(), 1, `exactly one ${event} entry`);
    }
  }
});

test('deleting a user: a failed D1 call deletes nothing, the retry deletes everything', { skip }, async () => {
  const made = await adminApi(T.base, T.apiKey, 'POST', '/api/users', { username: 'probe', email: 'probe@example.com', first_name: 'P' });
  assert.equal(made.status, 201, made.text);
  const { res, calls } = await d1Calls((f) => api('DELETE', `/api/users/${made.json.id}`, undefined, f));
  assert.equal(res.status, 204);
  for (let n = 1; n <= calls.length; n++) {
    const invite = (await adminApi(T.base, T.apiKey, 'POST', '/api/signup-tokens')).json.url;
    const p = new Person(T.base);
    people.push(p);
    await p.signUp(invite, { username: `victim${n}`, email: `victim${n}@example.com`, first_name: 'V' });
    const id = (await adminApi(T.base, T.apiKey, 'GET', `/api/users?search=victim${n}`)).json.data[0].id;
    const deletions = async () => (await adminApi(T.base, T.apiKey, 'GET', '/api/audit-logs?event=user_deleted&limit=100'))
      .json.data.filter((e) => e.details?.user_id === id).length;
    const failed = await api('DELETE', `/api/users/${id}`, undefined, n);
    await assertCleanError(failed, 'api', `delete user, D1 call ${n} (${calls[n - 1]}) failed`);
    assert.equal(await deletions(), 0, 'no user_deleted entry for a delete that did not happen');
    const still = await adminApi(T.base, T.apiKey, 'GET', `/api/users/${id}`);
    assert.equal(still.status, 200, 'the user is still there');
    assert.equal(still.json.passkeys.length, 1, 'with their passkey');
    assert.equal((await p.fetch('/account')).status, 200, 'and their session');
    assert.equal((await api('DELETE', `/api/users/${id}`)).status, 204);
    assert.equal((await adminApi(T.base, T.apiKey, 'GET', `/api/users/${id}`)).status, 404);
    assert.equal(await deletions(), 1, 'exactly one user_deleted entry, written with the delete');
    assert.notEqual((await p.fetch('/account')).status, 200, 'the session ended with the user');
  }
});

test('creating a user or a group: whatever D1 call fails, the audit entry exists exactly when the change does', { skip }, async () => {
  const entries = async (event, needle) => (await adminApi(T.base, T.apiKey, 'GET', `/api/audit-logs?event=${event}&limit=100`))
    .json.data.filter((e) => JSON.stringify(e.details).includes(`"${needle}"`)).length;
  for (const [kind, path, body, list, event, name] of [
    ['user', '/api/users', (i) => ({ username: `made${i}`, email: `made${i}@example.com`, first_name: 'M' }), (i) => `/api/users?search=made${i}`, 'user_created', (i) => `made${i}`],
    ['group', '/api/user-groups', (i) => ({ name: `made-${i}` }), (i) => `/api/user-groups?search=made-${i}`, 'group_created', (i) => `made-${i}`],
  ]) {
    const { res, calls } = await d1Calls((f) => api('POST', path, body('probe'), f));
    assert.equal(res.status, 201, kind);
    for (let n = 1; n <= calls.length; n++) {
      const what = `create ${kind}, call ${n} (${calls[n - 1]})`;
      await assertCleanError(await api('POST', path, body(n), n), 'api', what);
      const created = ((await adminApi(T.base, T.apiKey, 'GET', list(n))).json.data ?? []).length;
      // The write and its entry are one transaction: both or neither (a call failing after the
      // commit, such as reading the new row back, leaves both).
      assert.equal(await entries(event, name(n)), created, `${what}: ${created} ${kind}(s), as many ${event} entries`);
      const retry = await api('POST', path, body(n));
      assert.equal(retry.status, created ? 409 : 201, `${what}: the retry`);
      assert.equal(await entries(event, name(n)), 1, `${what}: exactly one ${event} entry in the end`);
    }
  }
});
