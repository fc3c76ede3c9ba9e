// A person with a software passkey (tools/soft-authenticator: passkey-client +
// passkey-authenticator) and a cookie jar: signs up through a setup link, signs in, and walks
// authorization requests the way a browser would, without a browser.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { tfetch, operator } from './env.mjs';

const SOFT_AUTH = process.env.EDGE_ID_SOFT_AUTHENTICATOR ?? 'target/release/soft-authenticator';

export function softAuth(args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(SOFT_AUTH, args, (err, stdout, stderr) => {
      if (err) reject(new Error(`soft-authenticator ${args[0]}: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout));
    });
    child.stdin.end(JSON.stringify(input));
  });
}

export class Person {
  constructor(base) {
    this.base = base;
    this.dir = mkdtempSync(join(tmpdir(), 'eid-person-'));
    this.state = join(this.dir, 'authenticator.json');
    this.cookies = new Map();
  }

  /** Another browser (empty cookie jar) of the same person, with the same passkey. */
  anotherBrowser() {
    const other = new Person(this.base);
    rmSync(other.dir, { recursive: true, force: true });
    other.dir = this.dir;
    other.state = this.state;
    other.cleanup = () => {};
    return other;
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  remember(res) {
    for (const line of res.headers.getSetCookie?.() ?? []) {
      const [pair, ...attrs] = line.split(';');
      const [name, value] = pair.split('=');
      const expired = attrs.some((a) => a.trim().toLowerCase() === 'max-age=0');
      if (expired || value === '') this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
  }

  /** A browser-like request to the tenant: cookies, same-origin headers, no redirect following. */
  async fetch(pathOrUrl, init = {}) {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.base + pathOrUrl;
    const headers = { ...(init.headers ?? {}) };
    if (this.cookies.size && url.startsWith(this.base)) headers.cookie = this.cookieHeader();
    if ((init.method ?? 'GET') !== 'GET') headers.origin = this.base;
    // Benchmarks spread load over fake client IPs so the per-IP rate limiter stays out of the way
    // (in production Cloudflare sets this header and a client cannot).
    if (this.clientIp) headers['cf-connecting-ip'] = this.clientIp;
    const res = await tfetch(url, { ...init, headers });
    this.remember(res);
    return res;
  }

  async postJson(path, body) {
    const res = await this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await res.json().catch(() => undefined);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** Creates the account from a setup/invite link and registers the passkey. */
  async signUp(setupUrl, profile) {
    const credential = await this.signUpCredential(setupUrl, profile);
    return this.postJson('/api/webauthn/register/finish', { credential });
  }
  /** The first half of signUp: starts the ceremony and creates the passkey, without finishing. */
  async signUpCredential(setupUrl, profile) {
    const token = new URL(setupUrl).pathname.split('/').pop() || null;
    const { options } = await this.postJson('/api/webauthn/register/start', { token, profile });
    return softAuth(['register', '--state', this.state, '--origin', this.base], options);
  }

  /** Usernameless passkey sign-in; returns where the page would go next. */
  async signIn(next = '/account') {
    const { options } = await this.postJson('/api/webauthn/login/start', {});
    const credential = await softAuth(['login', '--state', this.state, '--origin', this.base], options);
    const done = await this.postJson('/api/webauthn/login/finish', { credential, next });
    return done.redirect;
  }

  /** Signs in and times only the login/finish request (benchmarks). */
  async timedSignIn() {
    const { options } = await this.postJson('/api/webauthn/login/start', {});
    const credential = await softAuth(['login', '--state', this.state, '--origin', this.base], options);
    const t0 = performance.now();
    const res = await this.fetch('/api/webauthn/login/finish', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ credential, next: '/account' }),
    });
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`login finish: ${res.status}`);
    return { ms, d1: res.headers.get('x-edge-id-d1-queries') };
  }

  /**
   * Follows redirects inside the tenant like a browser, signing in with the passkey when sent to
   * the login page. Stops at the first response that is not a redirect within the tenant and
   * returns { res, location } (location set when it redirects to the client).
   */
  async walk(url, { signIn = true, init } = {}) {
    let res = await this.fetch(url, init);
    for (let hops = 0; hops < 10; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { res };
      const target = new URL(location, this.base);
      if (target.origin !== this.base) return { res, location: target.toString() };
      if (target.pathname === '/login') {
        if (!signIn) return { res, location: target.toString() };
        const next = target.searchParams.get('next');
        // The sign-in answers where to go: back to the client with its code when the sign-in
        // concluded the waiting request, or on within the tenant.
        const after = new URL(await this.signIn(next), this.base);
        if (after.origin !== this.base) return { res, location: after.toString() };
        res = await this.fetch(after.pathname + after.search);
        continue;
      }
      res = await this.fetch(target.pathname + target.search);
    }
    throw new Error('too many redirects');
  }
}

/** A tenant with a signed-up first admin and an admin API key. */
export async function tenantWithAdmin(createTenant, prefix) {
  const tenant = await createTenant(prefix, `Tenant ${prefix}`);
  const base = tenant.issuer;
  const admin = new Person(base);
  await admin.signUp(tenant.setup_url, {
    username: 'ada',
    email: 'ada@example.com',
    first_name: 'Ada',
    last_name: 'Lovelace',
  });
  const key = await operator('POST', `/tenants/${tenant.slug}/api-keys`, { name: 'tests' });
  if (key.status !== 201) throw new Error(`api key: ${key.status} ${key.text}`);
  return { tenant, base, admin, apiKey: key.json.api_key };
}

/** Calls the tenant admin API with an API key. */
/** Calls the admin API; `body` is an object (sent as JSON) or a string (sent as is). */
export async function adminApi(base, apiKey, method, path, body) {
  const res = await tfetch(base + path, {
    method,
    headers: {
      'x-api-key': apiKey,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}
