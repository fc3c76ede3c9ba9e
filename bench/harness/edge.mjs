// The Edge ID side of the benchmark: one release Worker loaded into this process
// (bench/harness/worker.mjs) over fresh bindings (bench/harness/bindings.mjs), a tenant with a
// signed-up admin and two clients (RS256, ES256 id_tokens), and the workloads whose CPU and
// latency bench/run.mjs reports. bench/compare.mjs loads two builds side by side with it.
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freshDatabase, D1Database, KvNamespace, Ratelimit } from './bindings.mjs';
import { loadEdgeWorker } from './worker.mjs';
import { Browser, Operator, call } from './client.mjs';

export const CALLBACK = 'https://app.example.com/cb';
export const form = 'application/x-www-form-urlencoded';
export const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
// The whole process's CPU time, not the main thread's: Node runs WebCrypto's signing on its
// thread pool (an RSA signature costs the main thread 0.09 ms of its 0.24), where workerd signs
// on the isolate's thread, so only the process figure holds the request's crypto.
export const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The query of an authorization request of `client` (code flow, PKCE `challenge`, offline access). */
export const authorizeQuery = (client, challenge) =>
  new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: CALLBACK, scope: 'openid email profile offline_access',
    state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256',
  }).toString();

/**
 * Loads the Worker of `build` (a directory holding index.js and index_bg.wasm) and prepares
 * everything the workloads need. Returns { edge (the Worker), d1, stats (the shim's counters),
 * startupMs, workloads ([{ name, prepare, send, expect, login? }]), fullLogin, cpuPerRequest }.
 */
export async function edgeBench({ root, build, scratch }) {
  const OPERATOR_SECRET = randomBytes(18).toString('base64url');
  const d1 = new D1Database(freshDatabase(root), { rttMs: 0, replicaRttMs: 0 });
  const stats = d1.shared.stats;
  const env = {
    DB: d1,
    CACHE: new KvNamespace(stats),
    SIGNIN_LIMITER: new Ratelimit(),
    TOKEN_LIMITER: new Ratelimit(),
    BASE_DOMAIN: 'localhost',
    EXPOSE_METRICS: '1',
    MASTER_KEY: randomBytes(32).toString('base64'),
    OPERATOR_SECRET,
  };
  const edge = await loadEdgeWorker(build, scratch, env);

  const op = new Operator(edge, 'http://localhost', OPERATOR_SECRET);
  const tenant = await op.api('POST', '/tenants', { slug: `bench-${randomBytes(3).toString('hex')}`, display_name: 'Bench' });
  const BASE = tenant.issuer;
  const state = join(scratch, `authenticator-${randomBytes(4).toString('hex')}.json`);
  const admin = new Browser(edge, BASE, state);
  await admin.signUp(tenant.setup_url, { username: 'ada', email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' });
  const rsClient = await op.api('POST', `/tenants/${tenant.slug}/clients`, { name: 'Bench RS256', callback_urls: [CALLBACK] });
  const esClient = await op.api('POST', `/tenants/${tenant.slug}/clients`, { name: 'Bench ES256', callback_urls: [CALLBACK], id_token_signed_response_alg: 'ES256' });
  const clients = { RS256: { id: rsClient.id, secret: rsClient.client_secret }, ES256: { id: esClient.id, secret: esClient.client_secret } };

  let ipCounter = 1;
  const nextIp = () => {
    const i = ipCounter++;
    return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  };
  // The admin browser signs in once through /authorize for each client (consent, if any, given).
  for (const c of Object.values(clients)) await admin.walk(`/authorize?${authorizeQuery(c, pkce().challenge)}`);

  /** An authorization code for `client` from the signed-in admin browser (outside timed sections). */
  async function edgeCode(client) {
    const { verifier, challenge } = pkce();
    const r = await admin.fetch(`/authorize?${authorizeQuery(client, challenge)}`);
    const loc = r.res.headers.get('location');
    const code = loc && new URL(loc).searchParams.get('code');
    if (!code) throw new Error(`authorize with a session gave ${r.res.status} ${loc}`);
    return { code, verifier };
  }
  const tokenReq = (client, c) => ({
    url: `${BASE}/api/oidc/token`,
    init: {
      method: 'POST',
      headers: { 'content-type': form, authorization: basic(client.id, client.secret), 'cf-connecting-ip': nextIp() },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: c.code, redirect_uri: CALLBACK, code_verifier: c.verifier }).toString(),
    },
  });
  async function edgeTokens(client) {
    const r = tokenReq(client, await edgeCode(client));
    const res = await call(edge, r.url, r.init);
    if (res.res.status !== 200) throw new Error(`token: ${res.res.status} ${res.body}`);
    return JSON.parse(res.body);
  }

  /**
   * Workloads: `prepare()` builds one input outside the timed section; `send(input)` performs the
   * measured Worker call(s) and returns the call results (each counted as one request).
   */
  const get = (path, browser) => ({ prepare: async () => browser, send: async (b) => [b ? await b.fetch(path) : await call(edge, BASE + path, { headers: { 'cf-connecting-ip': nextIp() } })] });
  const anonymous = () => new Browser(edge, BASE, state, nextIp());
  const edgeWorkloads = [
    { name: 'discovery', ...get('/.well-known/openid-configuration'), expect: 200 },
    { name: 'JWKS', ...get('/.well-known/jwks.json'), expect: 200 },
    {
      name: 'authorize, anonymous (→ login page)',
      prepare: async () => anonymous(),
      send: async (b) => [await b.fetch(`/authorize?${authorizeQuery(clients.RS256, pkce().challenge)}`)],
      expect: 302,
    },
    {
      name: 'authorize, with session (→ code)',
      prepare: async () => admin,
      send: async (b) => [await b.fetch(`/authorize?${authorizeQuery(clients.RS256, pkce().challenge)}`)],
      expect: 302,
    },
    {
      name: 'login start',
      prepare: async () => anonymous(),
      send: async (b) => [await b.fetch('/api/webauthn/login/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })],
      expect: 200,
    },
    {
      name: 'login finish (passkey verify + session)',
      login: true,
      prepare: async () => {
        const b = anonymous();
        const { options } = await b.postJson('/api/webauthn/login/start', {});
        b.credential = await b.assertion(options);
        return b;
      },
      send: async (b) => [await b.fetch('/api/webauthn/login/finish', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential: b.credential, next: '/account' }) })],
      expect: 200,
    },
    {
      name: 'login finish, a client waiting (session + its code)',
      login: true,
      prepare: async () => {
        const b = anonymous();
        const r = await b.fetch(`/authorize?${authorizeQuery(clients.RS256, pkce().challenge)}`);
        b.next = new URL(r.res.headers.get('location'), BASE).searchParams.get('next');
        const { options } = await b.postJson('/api/webauthn/login/start', {});
        b.credential = await b.assertion(options);
        return b;
      },
      send: async (b) => [await b.fetch('/api/webauthn/login/finish', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential: b.credential, next: b.next }) })],
      expect: 200,
    },
    ...['ES256', 'RS256'].map((alg) => ({
      name: `token, code + PKCE (${alg} id_token)`,
      prepare: async () => tokenReq(clients[alg], await edgeCode(clients[alg])),
      send: async (r) => [await call(edge, r.url, r.init)],
      expect: 200,
    })),
    {
      name: 'token, refresh (rotation, RS256)',
      prepare: async () => edgeTokens(clients.RS256),
      send: async (t) => [
        await call(edge, `${BASE}/api/oidc/token`, {
          method: 'POST',
          headers: { 'content-type': form, authorization: basic(clients.RS256.id, clients.RS256.secret), 'cf-connecting-ip': nextIp() },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token }).toString(),
        }),
      ],
      expect: 200,
    },
  ];
  const sharedTokens = await edgeTokens(clients.RS256);
  edgeWorkloads.push(
    {
      name: 'userinfo',
      prepare: async () => sharedTokens.access_token,
      send: async (at) => [await call(edge, `${BASE}/api/oidc/userinfo`, { headers: { authorization: `Bearer ${at}`, 'cf-connecting-ip': nextIp() } })],
      expect: 200,
    },
    {
      name: 'introspection',
      prepare: async () => sharedTokens.access_token,
      send: async (at) => [
        await call(edge, `${BASE}/api/oidc/introspect`, {
          method: 'POST',
          headers: { 'content-type': form, authorization: basic(clients.RS256.id, clients.RS256.secret), 'cf-connecting-ip': nextIp() },
          body: new URLSearchParams({ token: at }).toString(),
        }),
      ],
      expect: 200,
    },
  );

  /**
   * The full passkey login of a browser with no session: GET /authorize → GET /login →
   * login/start → (authenticator, not timed) → login/finish (→ the client with its code); then
   * the client's POST /token (RS256). Returns the Worker calls, D1 wait and wall time of the Worker
   * calls (the authenticator's time is left out).
   */
  async function fullLogin({ measureCpu = false } = {}) {
    const b = anonymous();
    const { verifier, challenge } = pkce();
    let cpu = 0;
    let shim = 0;
    let wall = 0;
    const calls = [];
    const timed = async (fn) => {
      const c0 = cpuUs();
      const s0 = stats.shimCpuUs;
      const t0 = performance.now();
      const r = await fn();
      wall += performance.now() - t0;
      if (measureCpu) {
        cpu += cpuUs() - c0;
        shim += stats.shimCpuUs - s0;
      }
      calls.push(r);
      return r;
    };
    const waited0 = stats.waitedMs;
    const p0 = stats.primary;
    const r0 = stats.replica;
    const a = await timed(() => b.fetch(`/authorize?${authorizeQuery(clients.RS256, challenge)}`));
    const login = new URL(a.res.headers.get('location'), BASE);
    await timed(() => b.fetch(login.pathname + login.search));
    const start = await timed(() => b.fetch('/api/webauthn/login/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    const credential = await b.assertion(JSON.parse(start.body).options);
    const fin = await timed(() =>
      b.fetch('/api/webauthn/login/finish', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential, next: login.searchParams.get('next') }) }),
    );
    // Straight back to the client with the code, or (a request that needs more) on to resume.
    let back = new URL(JSON.parse(fin.body).redirect, BASE);
    if (back.origin === BASE) {
      const resume = await timed(() => b.fetch(back.pathname + back.search));
      back = new URL(resume.res.headers.get('location'));
    }
    const code = back.searchParams.get('code');
    const t = tokenReq(clients.RS256, { code, verifier });
    const tok = await timed(() => call(edge, t.url, t.init));
    if (tok.res.status !== 200) throw new Error(`full login token: ${tok.res.status} ${tok.body}`);
    return { calls, wall, cpuUs: cpu - shim, shimUs: shim, d1WaitMs: stats.waitedMs - waited0, primary: stats.primary - p0, replica: stats.replica - r0 };
  }

  /** CPU µs per request of `n` sequential calls of `fn(i)`, minus the D1/KV shim's CPU. */
  async function cpuPerRequest(n, inputs, send, expect) {
    const c0 = cpuUs();
    const s0 = stats.shimCpuUs;
    let requests = 0;
    let last;
    for (let i = 0; i < n; i++) {
      const rs = await send(inputs[i]);
      for (const r of rs) {
        if (expect !== undefined && r.res.status !== expect) throw new Error(`status ${r.res.status} (expected ${expect}): ${r.body.slice(0, 200)}`);
        requests++;
        last = r;
      }
    }
    const shim = stats.shimCpuUs - s0;
    const us = cpuUs() - c0 - shim;
    return { us: us / requests, shimUs: shim / requests, last };
  }

  return { edge, d1, stats, workloads: edgeWorkloads, fullLogin, cpuPerRequest };
}
