// The soak: a bounded burst of mixed, realistic traffic at one tenant of the release Worker in
// local workerd, then checks that nothing was lost on the way. Started by scripts/soak.sh, which
// owns the server (loopback only):
//   EDGE_ID_PORT, EDGE_ID_OPERATOR_SECRET, EDGE_ID_SOFT_AUTHENTICATOR   (from soak.sh)
//   SOAK_REQUESTS (10000)  SOAK_CONCURRENCY (32)  SOAK_TIMEOUT_MS (10000, per request)
//   SOAK_USERS (200)  SOAK_USER_CONCURRENCY (200)  SOAK_DEADLINE_MS (900000, the whole run)
//   SOAK_SEED (1)  SOAK_REAL_LIMITS (1 when the Worker runs with wrangler.toml's rate limits:
//   429s at the limited endpoints are then counted as expected)  SOAK_OUT (summary file)
//
// Phases: (1) setup through the operator API and the software authenticator; (2) the mix,
// exactly SOAK_REQUESTS requests at SOAK_CONCURRENCY, each checked for its expected status and
// body; (3) the token check: every access token the mix issued is still accepted by userinfo
// unless its grant was revoked on purpose (then it must be refused), every refresh token that
// is the newest of its family is live and can be used, every rotated one is dead, and every
// id_token verifies; (4) SOAK_USERS concurrent user creations, then the user list paged through:
// each new user exactly once, totals consistent. Exit status 0 only when every criterion holds.
import { performance } from 'node:perf_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { loopbackAgent } from './load.mjs';
import { createTenant, operator, PORT } from '../tests/e2e/lib/env.mjs';
import { Person, adminApi, softAuth } from '../tests/e2e/lib/person.mjs';
import { CALLBACK, atHash, pkcePair } from '../tests/e2e/lib/oidc.mjs';

const num = (name, dflt) => Number(process.env[name] ?? dflt);
const TOTAL = num('SOAK_REQUESTS', 10_000);
const CONCURRENCY = num('SOAK_CONCURRENCY', 32);
const TIMEOUT_MS = num('SOAK_TIMEOUT_MS', 10_000);
const USERS = num('SOAK_USERS', 200);
const USER_CONCURRENCY = num('SOAK_USER_CONCURRENCY', 200);
const DEADLINE_MS = num('SOAK_DEADLINE_MS', 15 * 60_000);
const REAL_LIMITS = process.env.SOAK_REAL_LIMITS === '1';
const OUT = process.env.SOAK_OUT;
const PEOPLE = 4; // signed-in people besides the first admin
const started = performance.now();
const deadline = started + DEADLINE_MS;
const pastDeadline = () => performance.now() > deadline;
// Every phase stops issuing work at the deadline; should anything still hang, this ends the run.
setTimeout(() => {
  process.stderr.write('soak: hard deadline passed, giving up\n');
  process.exit(2);
}, DEADLINE_MS + 2 * TIMEOUT_MS).unref();

// Seeded PRNG (mulberry32): the same seed gives the same mix.
let seed = num('SOAK_SEED', 1) >>> 0;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (arr) => arr[Math.floor(rand() * arr.length)];

// ---------------------------------------------------------------- measured requests
// Only loopback: the agent resolves every host name (the tenant's *.localhost host) to 127.0.0.1.
const agent = loopbackAgent(Math.max(CONCURRENCY, USER_CONCURRENCY) + 8);

function newStats() {
  return { n: 0, statuses: {}, s5xx: 0, timeouts: 0, neterr: 0, unexpected: 0, limited: 0, ms: [], samples: [] };
}
const phases = { mix: new Map(), check: new Map(), users: new Map() };
const statsFor = (phase, kind) => {
  const m = phases[phase];
  if (!m.has(kind)) m.set(kind, newStats());
  return m.get(kind);
};
// Endpoints behind a rate limiter binding (only relevant with SOAK_REAL_LIMITS=1).
const LIMITED = new Set(['token_code', 'refresh', 'introspect', 'revoke', 'bad_secret', 'bad_code', 'login_start', 'login_finish', 'check_introspect', 'check_refresh']);

/**
 * Sends one request and accounts for it under phase/kind. `expect` is the expected status;
 * `check(json, res)` (optional) validates the body. Returns { status, json, headers } when the
 * answer is what was expected, otherwise undefined (the failure is counted). A 429 under
 * SOAK_REAL_LIMITS at a limited endpoint returns { limited: true }.
 */
async function send(phase, kind, { url, method = 'GET', headers = {}, body, expect = 200, check }) {
  const st = statsFor(phase, kind);
  st.n++;
  const t0 = performance.now();
  let res;
  let text;
  try {
    res = await request(url, { method, headers, body, dispatcher: agent, signal: AbortSignal.timeout(TIMEOUT_MS) });
    text = await res.body.text();
  } catch (e) {
    const timeout = e?.name === 'TimeoutError' || e?.name === 'AbortError' || /timeout/i.test(e?.code ?? '');
    if (timeout) st.timeouts++;
    else st.neterr++;
    st.samples.push(`${timeout ? 'timeout' : 'network error'}: ${e?.message ?? e}`);
    return undefined;
  }
  const ms = performance.now() - t0;
  st.ms.push(ms);
  const status = res.statusCode;
  st.statuses[status] = (st.statuses[status] ?? 0) + 1;
  if (status >= 500) {
    st.s5xx++;
    st.samples.push(`${status} ${method} ${new URL(url).pathname}: ${text.slice(0, 300)}`);
    return undefined;
  }
  if (status === 429 && REAL_LIMITS && LIMITED.has(kind)) {
    st.limited++;
    return { limited: true };
  }
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  let ok = status === expect;
  if (ok && check) {
    try {
      ok = check(json, res, text) !== false;
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    st.unexpected++;
    if (st.samples.length < 5) st.samples.push(`${status} (expected ${expect}) ${method} ${new URL(url).pathname}: ${text.slice(0, 300)}`);
    return undefined;
  }
  return { status, json, headers: res.headers, text };
}

async function pool(n, concurrency, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n && !pastDeadline()) await fn(next++);
    }),
  );
  return next;
}

// ---------------------------------------------------------------- phase 1: setup
process.stderr.write(`soak: ${TOTAL} requests at concurrency ${CONCURRENCY} on 127.0.0.1:${PORT}${REAL_LIMITS ? ' (real rate limits)' : ''}\n`);
const tenant = await createTenant('soak', 'Soak');
const BASE = tenant.issuer;
if (!new URL(BASE).hostname.endsWith('.localhost')) throw new Error(`refusing a non-local issuer: ${BASE}`);
const people = [new Person(BASE)];
await people[0].signUp(tenant.setup_url, { username: 'ada', email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' });
const key = await operator('POST', `/tenants/${tenant.slug}/api-keys`, { name: 'soak' });
if (key.status !== 201) throw new Error(`api key: ${key.status} ${key.text}`);
const apiKey = key.json.api_key;
const created = await operator('POST', `/tenants/${tenant.slug}/clients`, { name: 'Soak', callback_urls: [CALLBACK] });
if (created.status !== 201) throw new Error(`client: ${created.status} ${created.text}`);
const client = { id: created.json.id, secret: created.json.client_secret };
for (let i = 0; i < PEOPLE; i++) {
  const invite = await adminApi(BASE, apiKey, 'POST', '/api/signup-tokens');
  if (invite.status !== 201) throw new Error(`invite: ${invite.status} ${invite.text}`);
  const p = new Person(BASE);
  const name = ['grace', 'alan', 'edsger', 'barbara'][i] ?? `person${i}`;
  await p.signUp(invite.json.url, { username: name, email: `${name}@example.com`, first_name: name });
  people.push(p);
}
for (const p of people) await p.signIn(); // a fresh session from a passkey sign-in
// Each person's user id and username, for body checks (sub, admin reads).
const listed = await adminApi(BASE, apiKey, 'GET', '/api/users?limit=100');
const userIds = listed.json.data.map((u) => ({ id: u.id, username: u.username }));
if (userIds.length !== PEOPLE + 1) throw new Error(`expected ${PEOPLE + 1} users, got ${userIds.length}`);
const jwks = (await (await fetchLoopback(`${BASE}/.well-known/jwks.json`)).json());

async function fetchLoopback(url) {
  const res = await request(url, { dispatcher: agent });
  return { json: () => res.body.json() };
}

const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';
const tokenHeaders = (secret = client.secret) => ({ 'content-type': FORM, authorization: basic(client.id, secret) });
const decodeJwt = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

// ---------------------------------------------------------------- phase 2: the mix
// Token families: one per code exchange. Access tokens survive a refresh (only the refresh token
// rotates); revoking a token ends its whole grant. `busy` serializes what changes or reads a
// family's refresh token; `inflight` counts requests using its access tokens, so a revocation
// never races a request that expects the token to work.
const families = [];
const codes = []; // FIFO of { code, verifier, nonce, person }
const idTokens = []; // { jwt, at, nonce?, sub }
const signingIn = new Set();
const harnessErrors = []; // the soak's own failures (e.g. the software authenticator), not the Worker's
let issued = 0;

const live = () => families.filter((f) => !f.revoked && !f.uncertain);
const S = (kind, r) => send('mix', kind, r);

const ops = {
  async discovery() {
    await S('discovery', { url: `${BASE}/.well-known/openid-configuration`, check: (j) => j.issuer === BASE });
  },
  async jwks() {
    await S('jwks', { url: `${BASE}/.well-known/jwks.json`, check: (j) => j.keys.length >= 1 });
  },
  async login_page() {
    await S('login_page', { url: `${BASE}/login`, check: (_j, res) => String(res.headers['content-type']).startsWith('text/html') });
  },
  async login_start() {
    await S('login_start', {
      url: `${BASE}/api/webauthn/login/start`, method: 'POST',
      headers: { origin: BASE, 'content-type': 'application/json' }, body: '{}',
      check: (j) => typeof j.options.challenge === 'string',
    });
  },
  // A full passkey sign-in in a new browser: start, the software authenticator, finish.
  async signin() {
    const idle = people.filter((p) => !signingIn.has(p));
    if (idle.length === 0) return ops.login_start();
    const p = pick(idle);
    signingIn.add(p);
    try {
      const browser = p.anotherBrowser();
      const start = await S('login_start', {
        url: `${BASE}/api/webauthn/login/start`, method: 'POST',
        headers: { origin: BASE, 'content-type': 'application/json' }, body: '{}',
        check: (j) => typeof j.options.challenge === 'string',
      });
      if (!start || start.limited) {
        issued--; // the finish is not sent: give its slot back
        return;
      }
      let credential;
      try {
        credential = await softAuth(['login', '--state', browser.state, '--origin', BASE], start.json.options);
      } catch (e) {
        issued--;
        throw e;
      }
      await S('login_finish', {
        url: `${BASE}/api/webauthn/login/finish`, method: 'POST',
        headers: { origin: BASE, 'content-type': 'application/json' },
        body: JSON.stringify({ credential, next: '/account' }),
        check: (j, res) => typeof j.redirect === 'string' && String(res.headers['set-cookie'] ?? '').length > 0,
      });
    } finally {
      signingIn.delete(p);
    }
  },
  async authorize() {
    const p = pick(people);
    const { verifier, challenge } = pkcePair();
    const nonce = randomBytes(8).toString('hex');
    const state = randomBytes(8).toString('hex');
    const q = new URLSearchParams({
      response_type: 'code', client_id: client.id, redirect_uri: CALLBACK, scope: 'openid email profile',
      state, nonce, code_challenge: challenge, code_challenge_method: 'S256',
    });
    const r = await S('authorize', {
      url: `${BASE}/authorize?${q}`, headers: { cookie: p.cookieHeader() }, expect: 302,
      check: (_j, res) => {
        const loc = new URL(res.headers.location);
        return loc.href.startsWith(CALLBACK) && loc.searchParams.get('state') === state && !!loc.searchParams.get('code');
      },
    });
    if (r) codes.push({ code: new URL(r.headers.location).searchParams.get('code'), verifier, nonce, person: p });
  },
  async token_code() {
    const c = codes.shift();
    if (!c) return ops.authorize();
    const r = await S('token_code', {
      url: `${BASE}/api/oidc/token`, method: 'POST', headers: tokenHeaders(),
      body: new URLSearchParams({ grant_type: 'authorization_code', code: c.code, redirect_uri: CALLBACK, code_verifier: c.verifier }).toString(),
      check: (j) => j.access_token && j.refresh_token && j.id_token && j.token_type === 'Bearer',
    });
    if (!r || r.limited) return;
    const sub = decodeJwt(r.json.id_token).sub;
    families.push({ id: families.length, sub, ats: [r.json.access_token], rts: [r.json.refresh_token], busy: false, inflight: 0, revoked: false, uncertain: false });
    idTokens.push({ jwt: r.json.id_token, at: r.json.access_token, nonce: c.nonce, sub });
  },
  async refresh() {
    const idle = live().filter((f) => !f.busy);
    if (idle.length === 0) return ops.token_code();
    const f = pick(idle);
    f.busy = true;
    try {
      const r = await S('refresh', {
        url: `${BASE}/api/oidc/token`, method: 'POST', headers: tokenHeaders(),
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: f.rts.at(-1) }).toString(),
        check: (j) => j.access_token && j.refresh_token && j.id_token,
      });
      if (!r) {
        f.uncertain = true; // the failure is counted; its tokens' state is unknown now
        return;
      }
      if (r.limited) return;
      f.ats.push(r.json.access_token);
      f.rts.push(r.json.refresh_token);
      idTokens.push({ jwt: r.json.id_token, at: r.json.access_token, sub: f.sub });
    } finally {
      f.busy = false;
    }
  },
  async userinfo() {
    const fs = live();
    if (fs.length === 0) return ops.token_code();
    const f = pick(fs);
    f.inflight++;
    try {
      await S('userinfo', { url: `${BASE}/api/oidc/userinfo`, headers: { authorization: `Bearer ${pick(f.ats)}` }, check: (j) => j.sub === f.sub });
    } finally {
      f.inflight--;
    }
  },
  async introspect() {
    const fs = live();
    if (fs.length === 0) return ops.token_code();
    const f = pick(fs);
    // Every fourth introspection asks about the family's newest refresh token (when no refresh
    // is rotating it); the rest about one of its access tokens.
    const ofRefresh = rand() < 0.25 && !f.busy;
    if (ofRefresh) f.busy = true;
    f.inflight++;
    try {
      const token = ofRefresh ? f.rts.at(-1) : pick(f.ats);
      await S('introspect', {
        url: `${BASE}/api/oidc/introspect`, method: 'POST', headers: tokenHeaders(),
        body: new URLSearchParams({ token, ...(ofRefresh ? { token_type_hint: 'refresh_token' } : {}) }).toString(),
        check: (j) => j.active === true && j.sub === f.sub && j.token_type === (ofRefresh ? 'refresh_token' : 'Bearer'),
      });
    } finally {
      f.inflight--;
      if (ofRefresh) f.busy = false;
    }
  },
  // Revokes a grant on purpose (half by its refresh token, half by an access token): the check
  // phase then expects all of that family's tokens to be refused.
  async revoke() {
    const idle = live().filter((f) => !f.busy && f.inflight === 0);
    if (idle.length === 0) return ops.discovery();
    const f = pick(idle);
    f.busy = true;
    f.revoked = true;
    const token = rand() < 0.5 ? f.rts.at(-1) : pick(f.ats);
    try {
      const r = await S('revoke', {
        url: `${BASE}/api/oidc/revoke`, method: 'POST', headers: tokenHeaders(), body: new URLSearchParams({ token }).toString(),
      });
      if (!r) f.uncertain = true;
      else if (r.limited) f.revoked = false;
    } finally {
      f.busy = false;
    }
  },
  async admin_list() {
    const page = 1 + Math.floor(rand() * 2);
    await S('admin_users_list', { url: `${BASE}/api/users?page=${page}&limit=3`, headers: { 'x-api-key': apiKey }, check: (j) => Array.isArray(j.data) && j.pagination.total_items === PEOPLE + 1 });
  },
  async admin_search() {
    const u = pick(userIds);
    await S('admin_users_search', {
      url: `${BASE}/api/users?search=${encodeURIComponent(u.username.slice(0, 3))}`, headers: { 'x-api-key': apiKey },
      check: (j) => j.data.some((x) => x.id === u.id),
    });
  },
  async admin_get() {
    const u = pick(userIds);
    await S('admin_user_get', { url: `${BASE}/api/users/${u.id}`, headers: { 'x-api-key': apiKey }, check: (j) => j.id === u.id && j.passkeys.length === 1 });
  },
  // Bad input whose 4xx is the correct answer.
  async bad_secret() {
    await S('bad_secret', {
      url: `${BASE}/api/oidc/token`, method: 'POST', headers: tokenHeaders('wrong-secret'), expect: 401,
      body: new URLSearchParams({ grant_type: 'authorization_code', code: randomBytes(32).toString('base64url'), redirect_uri: CALLBACK, code_verifier: 'x'.repeat(43) }).toString(),
      check: (j) => j.error === 'invalid_client',
    });
  },
  async bad_code() {
    await S('bad_code', {
      url: `${BASE}/api/oidc/token`, method: 'POST', headers: tokenHeaders(), expect: 400,
      body: new URLSearchParams({ grant_type: 'authorization_code', code: randomBytes(32).toString('base64url'), redirect_uri: CALLBACK, code_verifier: 'x'.repeat(43) }).toString(),
      check: (j) => j.error === 'invalid_grant',
    });
  },
  async bad_bearer() {
    await S('bad_bearer', { url: `${BASE}/api/oidc/userinfo`, headers: { authorization: `Bearer ${randomBytes(32).toString('base64url')}` }, expect: 401 });
  },
};

// The mix, in percent of operations (each operation is one request; a sign-in is two).
const MIX = [
  ['discovery', 8], ['jwks', 7], ['login_page', 5], ['login_start', 4], ['signin', 1],
  ['authorize', 14], ['token_code', 14], ['refresh', 8], ['userinfo', 14], ['introspect', 7], ['revoke', 1],
  ['admin_list', 4], ['admin_search', 3], ['admin_get', 3],
  ['bad_secret', 3], ['bad_code', 3], ['bad_bearer', 1],
];
const weightSum = MIX.reduce((s, [, w]) => s + w, 0);
function chooseOp() {
  let x = rand() * weightSum;
  for (const [name, w] of MIX) if ((x -= w) < 0) return name;
  return MIX[0][0];
}

process.stderr.write(`setup done (${people.length} signed-in people); mix running\n`);
const mixStart = performance.now();
const loadBefore = loadavg()[0];
let progressAt = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (issued < TOTAL && !pastDeadline()) {
      let op = chooseOp();
      if (op === 'signin' && TOTAL - issued < 2) op = 'discovery';
      issued += op === 'signin' ? 2 : 1;
      try {
        await ops[op]();
      } catch (e) {
        harnessErrors.push(`${op}: ${e?.message ?? e}`);
      }
      if (issued - progressAt >= 1000) {
        progressAt = issued - (issued % 1000);
        process.stderr.write(`  ${progressAt} requests, ${((performance.now() - mixStart) / 1000).toFixed(1)} s\n`);
      }
    }
  }),
);
const mixSeconds = (performance.now() - mixStart) / 1000;
const loadAfter = loadavg()[0];

// ---------------------------------------------------------------- phase 3: token check
process.stderr.write('checking every issued token\n');
// Checking is not load: each check request comes from its own client IP (CF-Connecting-IP, which
// local workerd passes through) so that, with SOAK_REAL_LIMITS=1, the limiter does not stand in
// the way of the verification.
let checkIp = 0;
const C = (kind, r) => {
  const i = ++checkIp;
  return send('check', kind, { ...r, headers: { ...r.headers, 'cf-connecting-ip': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } });
};
const tokenCheck = { atValid: 0, atValidOk: 0, atRevoked: 0, atRevokedOk: 0, rtLatest: 0, rtLatestLive: 0, rtLatestUsable: 0, rtRotated: 0, rtRotatedDead: 0, rtRevoked: 0, rtRevokedDead: 0, idTokens: idTokens.length, idTokensOk: 0, uncertainFamilies: families.filter((f) => f.uncertain).length };
const checked = families.filter((f) => !f.uncertain);
const jobs = [];
for (const f of checked) {
  for (const at of f.ats) {
    jobs.push(async () => {
      if (f.revoked) {
        tokenCheck.atRevoked++;
        const r = await C('check_userinfo_revoked', { url: `${BASE}/api/oidc/userinfo`, headers: { authorization: `Bearer ${at}` }, expect: 401 });
        if (r) tokenCheck.atRevokedOk++;
      } else {
        tokenCheck.atValid++;
        const r = await C('check_userinfo', { url: `${BASE}/api/oidc/userinfo`, headers: { authorization: `Bearer ${at}` }, check: (j) => j.sub === f.sub });
        if (r) tokenCheck.atValidOk++;
      }
    });
  }
  // Rotated refresh tokens: dead (asked read-only: presenting one at the token endpoint would,
  // correctly, revoke the family).
  for (const rt of f.rts.slice(0, -1)) {
    jobs.push(async () => {
      tokenCheck.rtRotated++;
      const r = await C('check_introspect', {
        url: `${BASE}/api/oidc/introspect`, method: 'POST', headers: tokenHeaders(),
        body: new URLSearchParams({ token: rt, token_type_hint: 'refresh_token' }).toString(), check: (j) => j.active === false,
      });
      if (r) tokenCheck.rtRotatedDead++;
    });
  }
}
// Access tokens and rotated refresh tokens first, then the newest refresh token of each family
// (live unless revoked; using it rotates it, which is fine once everything else is checked).
await pool(jobs.length, CONCURRENCY, (i) => jobs[i]());
const latestJobs = checked.map((f) => async () => {
  const rt = f.rts.at(-1);
  if (f.revoked) {
    tokenCheck.rtRevoked++;
    const r = await C('check_introspect', {
      url: `${BASE}/api/oidc/introspect`, method: 'POST', headers: tokenHeaders(),
      body: new URLSearchParams({ token: rt, token_type_hint: 'refresh_token' }).toString(), check: (j) => j.active === false,
    });
    if (r) tokenCheck.rtRevokedDead++;
    return;
  }
  tokenCheck.rtLatest++;
  const live = await C('check_introspect', {
    url: `${BASE}/api/oidc/introspect`, method: 'POST', headers: tokenHeaders(),
    body: new URLSearchParams({ token: rt, token_type_hint: 'refresh_token' }).toString(),
    check: (j) => j.active === true && j.sub === f.sub && j.token_type === 'refresh_token',
  });
  if (live) tokenCheck.rtLatestLive++;
  const used = await C('check_refresh', {
    url: `${BASE}/api/oidc/token`, method: 'POST', headers: tokenHeaders(),
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt }).toString(),
    check: (j) => j.access_token && j.refresh_token && decodeJwt(j.id_token).sub === f.sub,
  });
  if (used) tokenCheck.rtLatestUsable++;
});
await pool(latestJobs.length, CONCURRENCY, (i) => latestJobs[i]());
const keySet = createLocalJWKSet(jwks);
for (const t of idTokens) {
  try {
    const { payload } = await jwtVerify(t.jwt, keySet, { issuer: BASE, audience: client.id });
    if (payload.sub === t.sub && payload.at_hash === atHash(t.at) && (t.nonce === undefined || payload.nonce === t.nonce)) tokenCheck.idTokensOk++;
  } catch {
    // counted as not ok
  }
}

// ---------------------------------------------------------------- phase 4: concurrent user creations
process.stderr.write(`creating ${USERS} users at concurrency ${USER_CONCURRENCY}\n`);
const U = (kind, r) => send('users', kind, r);
const tag = randomBytes(3).toString('hex');
const made = new Array(USERS).fill(null);
const usersStart = performance.now();
await pool(USERS, USER_CONCURRENCY, async (i) => {
  const username = `soak-${tag}-${i}`;
  const r = await U('create_user', {
    url: `${BASE}/api/users`, method: 'POST', expect: 201,
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ username, email: `${username}@example.com`, first_name: `Soak ${i}` }),
    check: (j) => j.username === username && typeof j.id === 'string',
  });
  if (r) made[i] = { id: r.json.id, username };
});
const usersSeconds = (performance.now() - usersStart) / 1000;
// Page through the whole list, then through a search for the new ones.
async function listAll(search) {
  const seen = [];
  let totals = new Set();
  for (let page = 1; page <= 100 && !pastDeadline(); page++) {
    const q = new URLSearchParams({ page: String(page), limit: '100', ...(search ? { search } : {}) });
    const r = await U('list_users', { url: `${BASE}/api/users?${q}`, headers: { 'x-api-key': apiKey }, check: (j) => Array.isArray(j.data) });
    if (!r) return { seen, total: NaN, consistent: false };
    totals.add(r.json.pagination.total_items);
    seen.push(...r.json.data);
    if (page >= r.json.pagination.total_pages) break;
  }
  return { seen, total: [...totals][0], consistent: totals.size === 1 };
}
const all = await listAll();
const found = await listAll(`soak-${tag}-`);
const countById = new Map();
for (const u of all.seen) countById.set(u.id, (countById.get(u.id) ?? 0) + 1);
const createdOk = made.filter(Boolean);
const userCheck = {
  asked: USERS,
  created: createdOk.length,
  presentOnce: createdOk.filter((u) => countById.get(u.id) === 1 && all.seen.find((x) => x.id === u.id)?.username === u.username).length,
  missing: createdOk.filter((u) => !countById.has(u.id)).length,
  duplicateRows: [...countById.values()].filter((n) => n > 1).length,
  listed: all.seen.length,
  totalItems: all.total,
  expectedTotal: USERS + PEOPLE + 1,
  searchFound: new Set(found.seen.map((u) => u.id)).size,
  searchTotal: found.total,
  uniqueUsernames: new Set(all.seen.map((u) => u.username)).size,
  consistent: all.consistent && found.consistent,
};

// ---------------------------------------------------------------- report
const f = (x, d = 0) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
function table(phase) {
  const lines = ['| Kind | Requests | Statuses | 5xx | Timeouts | Net errors | Unexpected | p50 ms | p99 ms |', '|---|---:|---|---:|---:|---:|---:|---:|---:|'];
  const sum = newStats();
  for (const [kind, st] of [...phases[phase]].sort((a, b) => b[1].n - a[1].n)) {
    st.ms.sort((a, b) => a - b);
    const statuses = Object.entries(st.statuses).map(([s, n]) => `${s}×${n}`).join(' ');
    lines.push(`| ${kind} | ${st.n} | ${statuses} | ${st.s5xx} | ${st.timeouts} | ${st.neterr} | ${st.unexpected} | ${f(pct(st.ms, 50), 1)} | ${f(pct(st.ms, 99), 1)} |`);
    for (const k of ['n', 's5xx', 'timeouts', 'neterr', 'unexpected', 'limited']) sum[k] += st[k];
    sum.ms.push(...st.ms);
    sum.samples.push(...st.samples.map((s) => `${kind}: ${s}`));
  }
  sum.ms.sort((a, b) => a - b);
  lines.push(`| **all** | **${sum.n}** | ${sum.limited ? `429 (rate limited, expected) ×${sum.limited}` : ''} | **${sum.s5xx}** | **${sum.timeouts}** | **${sum.neterr}** | **${sum.unexpected}** | **${f(pct(sum.ms, 50), 1)}** | **${f(pct(sum.ms, 99), 1)}** |`);
  return { lines, sum };
}
const mix = table('mix');
const chk = table('check');
const usr = table('users');
const T = tokenCheck;
const criteria = [
  [`mix completed: ${mix.sum.n} of ${TOTAL} requests`, mix.sum.n === TOTAL],
  [`no 5xx (mix ${mix.sum.s5xx}, checks ${chk.sum.s5xx}, users ${usr.sum.s5xx})`, mix.sum.s5xx + chk.sum.s5xx + usr.sum.s5xx === 0],
  [`no timeouts or network errors (timeouts ${mix.sum.timeouts + chk.sum.timeouts + usr.sum.timeouts}, network errors ${mix.sum.neterr + chk.sum.neterr + usr.sum.neterr})`, mix.sum.timeouts + chk.sum.timeouts + usr.sum.timeouts + mix.sum.neterr + chk.sum.neterr + usr.sum.neterr === 0],
  [`every answer as expected (unexpected: mix ${mix.sum.unexpected}, checks ${chk.sum.unexpected}, users ${usr.sum.unexpected})`, mix.sum.unexpected + chk.sum.unexpected + usr.sum.unexpected === 0],
  [`access tokens of live grants accepted by userinfo: ${T.atValidOk}/${T.atValid}`, T.atValidOk === T.atValid && T.atValid > 0],
  [`access tokens of grants revoked on purpose refused: ${T.atRevokedOk}/${T.atRevoked}`, T.atRevokedOk === T.atRevoked],
  [`newest refresh token of each live family active: ${T.rtLatestLive}/${T.rtLatest}, and usable: ${T.rtLatestUsable}/${T.rtLatest}`, T.rtLatestLive === T.rtLatest && T.rtLatestUsable === T.rtLatest && T.rtLatest > 0],
  [`rotated refresh tokens inactive: ${T.rtRotatedDead}/${T.rtRotated}; revoked families' refresh tokens inactive: ${T.rtRevokedDead}/${T.rtRevoked}`, T.rtRotatedDead === T.rtRotated && T.rtRevokedDead === T.rtRevoked],
  [`id_tokens verified (signature, iss, aud, sub, at_hash, nonce): ${T.idTokensOk}/${T.idTokens}`, T.idTokensOk === T.idTokens],
  [`no family left uncertain by a failed request: ${T.uncertainFamilies}`, T.uncertainFamilies === 0],
  [`no harness errors: ${harnessErrors.length}${harnessErrors.length ? ` (${harnessErrors.slice(0, 3).join('; ')})` : ''}`, harnessErrors.length === 0],
  [`users created: ${userCheck.created}/${USERS} (201)`, userCheck.created === USERS],
  [`each new user listed exactly once: ${userCheck.presentOnce}/${userCheck.created} (missing ${userCheck.missing}, duplicated rows ${userCheck.duplicateRows})`, userCheck.presentOnce === USERS && userCheck.duplicateRows === 0],
  [`list totals: ${userCheck.listed} rows listed, total_items ${userCheck.totalItems}, expected ${userCheck.expectedTotal}, ${userCheck.uniqueUsernames} distinct usernames; search finds ${userCheck.searchFound} (total ${userCheck.searchTotal})`, userCheck.listed === userCheck.expectedTotal && userCheck.totalItems === userCheck.expectedTotal && userCheck.uniqueUsernames === userCheck.expectedTotal && userCheck.searchFound === USERS && userCheck.searchTotal === USERS && userCheck.consistent],
  [`within the deadline (${f((performance.now() - started) / 1000, 0)} s of ${DEADLINE_MS / 1000} s)`, !pastDeadline()],
];
const passed = criteria.every(([, ok]) => ok);
const out = [];
out.push(`# Edge ID soak — ${new Date().toISOString()}`);
out.push('');
out.push(`Loopback (127.0.0.1:${PORT}), release Worker in local workerd (wrangler dev, fresh local D1/KV), ${process.env.SOAK_MACHINE ?? ''}`.trim());
out.push(`Machine load (1-min load average) at the start and end of the mix: ${f(loadBefore, 2)}, ${f(loadAfter, 2)} (other work on the machine shares its cores).`);
out.push(`Rate limits: ${REAL_LIMITS ? "wrangler.toml's (429 at limited endpoints counted as expected)" : 'raised for the soak (generated wrangler config; the limiter bindings still run on every request)'}. Seed ${num('SOAK_SEED', 1)}.`);
out.push('');
out.push(`## Mix: ${mix.sum.n} requests, concurrency ${CONCURRENCY}, ${f(mixSeconds, 1)} s, ${f(mix.sum.n / mixSeconds, 0)} req/s, per-request timeout ${TIMEOUT_MS / 1000} s`);
out.push('');
out.push(...mix.lines);
out.push('');
out.push(`## Token check after the mix: ${families.length} token families (${families.filter((x) => x.revoked).length} revoked on purpose), ${chk.sum.n} requests`);
out.push('');
out.push(...chk.lines);
out.push('');
out.push(`## ${USERS} concurrent user creations (concurrency ${USER_CONCURRENCY}, ${f(usersSeconds, 1)} s), then the list paged through`);
out.push('');
out.push(...usr.lines);
out.push('');
out.push('## Criteria');
out.push('');
for (const [text, ok] of criteria) out.push(`- ${ok ? 'PASS' : 'FAIL'} ${text}`);
const samples = [...mix.sum.samples, ...chk.sum.samples, ...usr.sum.samples].slice(0, 20);
if (samples.length) {
  out.push('');
  out.push('Failure samples:');
  out.push('');
  for (const s of samples) out.push(`    ${s.replace(/\n/g, ' ')}`);
}
out.push('');
out.push(`**${passed ? 'SOAK PASSED' : 'SOAK FAILED'}**`);
const report = out.join('\n');
console.log(report);
if (OUT) {
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${report}\n`);
}
for (const p of people) p.cleanup();
process.exit(passed ? 0 : 1);
