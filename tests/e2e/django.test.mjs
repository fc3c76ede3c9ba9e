// Issue 7: a web app from another ecosystem signs in through Edge ID: a minimal Django site
// with mozilla-django-oidc (the library Linkding uses), on loopback, with a software passkey.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createTenant, operator } from './lib/env.mjs';
import { tenantWithAdmin } from './lib/person.mjs';

const PYTHON = process.env.EDGE_ID_DJANGO_PYTHON ?? '.venv-django/bin/python';
let T;
let django;
let dir;
let base;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  assert.ok(existsSync(PYTHON), `${PYTHON} missing: scripts/setup.sh --browser installs it`);
  T = await tenantWithAdmin(createTenant, 'django');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const client = await operator('POST', `/tenants/${T.tenant.slug}/clients`, {
    name: 'Linkding-like Django app',
    callback_urls: [`${base}/oidc/callback/`],
  });
  assert.equal(client.status, 201, client.text);
  dir = mkdtempSync(join(tmpdir(), 'eid-django-'));
  django = spawn(PYTHON, ['tests/django_rp/app.py', String(port)], {
    env: {
      ...process.env,
      EDGE_ID_ISSUER: T.base,
      OIDC_RP_CLIENT_ID: client.json.id,
      OIDC_RP_CLIENT_SECRET: client.json.client_secret,
      DJANGO_DB: join(dir, 'db.sqlite3'),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let log = '';
  django.stderr.on('data', (d) => (log += d));
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/whoami`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`django did not start:\n${log}`);
});

after(() => {
  if (django) process.kill(-django.pid, 'SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
  T?.admin.cleanup();
});

/** A cookie jar for the Django site (the Person's jar holds the Edge ID tenant's cookies). */
class Jar {
  cookies = new Map();
  async fetch(url) {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1));
    }
    return res;
  }
}

test('mozilla-django-oidc signs a user in with a passkey through Edge ID', async () => {
  const jar = new Jar();
  assert.equal((await (await jar.fetch(`${base}/whoami`)).json()).authenticated, false);
  const start = await jar.fetch(`${base}/oidc/authenticate/`);
  assert.equal(start.status, 302);
  const authorize = new URL(start.headers.get('location'));
  assert.equal(authorize.origin, T.base);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  // The browser part at Edge ID: sign in with the passkey, come back with a code.
  const { location } = await T.admin.walk(authorize.pathname + authorize.search);
  assert.ok(location.startsWith(`${base}/oidc/callback/`), location);
  // Django exchanges the code (server to server), verifies the RS256 id_token against the
  // JWKS, calls userinfo and logs the user in.
  const callback = await jar.fetch(location);
  assert.equal(callback.status, 302);
  assert.equal(callback.headers.get('location'), '/whoami');
  const me = await (await jar.fetch(`${base}/whoami`)).json();
  assert.equal(me.authenticated, true);
  assert.equal(me.email, 'ada@example.com');
  // A replayed callback (same code) does not log anyone in again.
  const replay = new Jar();
  await replay.fetch(`${base}/oidc/authenticate/`);
  const again = await replay.fetch(location);
  assert.notEqual(again.headers.get('location'), '/whoami');
});
