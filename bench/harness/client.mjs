// A browser (cookie jar) and an operator that talk to a Worker loaded in this process
// (bench/harness/worker.mjs) by calling its fetch handler: the same requests the e2e tests send over
// HTTP (tests/e2e/lib/person.mjs), with the software authenticator (tools/soft-authenticator) for
// the passkey. Every call records what the Worker reported (D1 round trips) and its wall time.
import { performance } from 'node:perf_hooks';
import { softAuth } from '../../tests/e2e/lib/person.mjs';

/** Calls `worker.fetch` and reads the whole body; returns { res, body, ms, d1, replica }. */
export async function call(worker, url, init = {}) {
  const t0 = performance.now();
  const res = await worker.fetch(new Request(url, { redirect: 'manual', ...init }));
  const body = await res.text();
  const ms = performance.now() - t0;
  const num = (h) => (res.headers.has(h) ? Number(res.headers.get(h)) : undefined);
  return { res, body, ms, d1: num('x-edge-id-d1-queries'), replica: num('x-edge-id-d1-replica-queries') };
}

export class Operator {
  constructor(worker, platform, secret) {
    Object.assign(this, { worker, platform, secret });
  }
  async api(method, path, body) {
    const r = await call(this.worker, `${this.platform}/operator/api${path}`, {
      method,
      headers: { authorization: `Bearer ${this.secret}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (r.res.status >= 300) throw new Error(`operator ${method} ${path}: ${r.res.status} ${r.body}`);
    return JSON.parse(r.body);
  }
}

export class Browser {
  /** `state`: the software authenticator's file (the person's passkey). */
  constructor(worker, base, state, clientIp = '10.0.0.1') {
    Object.assign(this, { worker, base, state, clientIp });
    this.cookies = new Map();
    this.trace = [];
  }
  remember(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1);
      if (value === '' || attrs.some((a) => a.trim().toLowerCase() === 'max-age=0')) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  async fetch(path, init = {}) {
    const url = path.startsWith('http') ? path : this.base + path;
    const headers = { 'cf-connecting-ip': this.clientIp, ...(init.headers ?? {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if ((init.method ?? 'GET') !== 'GET') headers.origin = this.base;
    const r = await call(this.worker, url, { ...init, headers });
    this.remember(r.res);
    this.trace.push({ path: new URL(url).pathname, ms: r.ms, d1: r.d1, replica: r.replica, status: r.res.status });
    return r;
  }
  async postJson(path, body) {
    const r = await this.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.res.status !== 200) throw new Error(`${path}: ${r.res.status} ${r.body}`);
    return JSON.parse(r.body);
  }
  async signUp(setupUrl, profile) {
    const token = new URL(setupUrl).pathname.split('/').pop() || null;
    const { options } = await this.postJson('/api/webauthn/register/start', { token, profile });
    const credential = await softAuth(['register', '--state', this.state, '--origin', this.base], options);
    return this.postJson('/api/webauthn/register/finish', { credential });
  }
  /** The authenticator's answer to a login/start (outside every timed section). */
  async assertion(options) {
    return softAuth(['login', '--state', this.state, '--origin', this.base], options);
  }
  async signIn(next = '/account') {
    const { options } = await this.postJson('/api/webauthn/login/start', {});
    const credential = await this.assertion(options);
    const done = await this.postJson('/api/webauthn/login/finish', { credential, next });
    return done.redirect;
  }
  /**
   * Follows redirects inside the tenant like a browser, signing in with the passkey on the login
   * page (GET /login, login/start, authenticator, login/finish). Returns the client redirect.
   */
  async walk(path) {
    let r = await this.fetch(path);
    for (let hops = 0; hops < 12; hops++) {
      const location = r.res.headers.get('location');
      if (r.res.status < 300 || r.res.status >= 400 || !location) throw new Error(`walk ${path} stopped at ${r.res.status}: ${r.body.slice(0, 200)}`);
      const target = new URL(location, this.base);
      if (target.origin !== this.base) return target;
      if (target.pathname === '/login') {
        await this.fetch(target.pathname + target.search);
        // The sign-in goes straight back to the client when it concluded the waiting request.
        const after = new URL(await this.signIn(target.searchParams.get('next')), this.base);
        if (after.origin !== this.base) return after;
        r = await this.fetch(after.pathname + after.search);
        continue;
      }
      r = await this.fetch(target.pathname + target.search);
    }
    throw new Error('too many redirects');
  }
}
