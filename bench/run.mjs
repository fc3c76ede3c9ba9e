// The benchmark: Edge ID (release build, local workerd + D1 via wrangler dev) against panva's
// oidc-provider on the same machine, same workloads, printed as one markdown table.
// Started by scripts/bench.sh, which owns the servers:
//   EDGE_ID_PORT, EDGE_ID_OPERATOR_SECRET, REF_PORT, BENCH_DURATION_MS, BENCH_CONCURRENCY
import { performance } from 'node:perf_hooks';
import { readFileSync, readdirSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import { load } from './load.mjs';
import { isolateCpu } from './profile.mjs';
import { createTenant, operator, tfetch } from '../tests/e2e/lib/env.mjs';
import { Person } from '../tests/e2e/lib/person.mjs';

const REF = `http://127.0.0.1:${process.env.REF_PORT}`;
const FLOOR = process.env.FLOOR_PORT ? `http://127.0.0.1:${process.env.FLOOR_PORT}/` : undefined;
const TICK_MS = 1000 / Number(execSync('getconf CLK_TCK').toString().trim());

/** CPU time (ms) used so far by the workerd processes of a process group (wrangler dev's). */
function workerdCpuMs(pgid) {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[2] = pgrp, [11] = utime, [12] = stime (proc(5), counting from state = 0)
      if (comm === 'workerd' && Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks * TICK_MS;
}

/** Runs `fn`, returning its result and the workerd CPU ms it cost in `pgid`. */
async function withCpu(pgid, fn) {
  const before = workerdCpuMs(pgid);
  const result = await fn();
  return { result, cpu: workerdCpuMs(pgid) - before };
}
const EDGE_PGID = Number(process.env.EDGE_PGID);
const FLOOR_PGID = Number(process.env.FLOOR_PGID);
const DURATION = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CODES = Number(process.env.BENCH_CODES ?? 1500);
const CALLBACK = 'https://app.example.com/cb';
const REF_CLIENT = { id: 'bench-client', secret: 'benchSecret0123456789abcdefghijklmnopqrstuvwxyz' };

const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const form = { 'content-type': 'application/x-www-form-urlencoded' };
// The Workers rate limiter keys on CF-Connecting-IP (set by Cloudflare in production). Locally the
// client may set it, so the load is spread over many fake client IPs to measure the endpoint, not
// the limiter.
const ip = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function pool(n, concurrency, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

// ---------- Edge ID setup ----------
const tenant = await createTenant('bench', 'Bench');
const EDGE = tenant.issuer;
const admin = new Person(EDGE);
await admin.signUp(tenant.setup_url, { username: 'ada', email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' });
const created = await operator('POST', `/tenants/${tenant.slug}/clients`, { name: 'Bench', callback_urls: [CALLBACK] });
const edgeClient = { id: created.json.id, secret: created.json.client_secret };

async function edgeCode() {
  const { verifier, challenge } = pkce();
  const q = new URLSearchParams({
    response_type: 'code', client_id: edgeClient.id, redirect_uri: CALLBACK, scope: 'openid email profile',
    state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256',
  });
  const res = await admin.fetch(`/authorize?${q}`);
  const code = new URL(res.headers.get('location')).searchParams.get('code');
  return { code, verifier };
}

async function refCode() {
  const { verifier, challenge } = pkce();
  const res = await fetch(`${REF}/bench/mint?code_challenge=${challenge}`);
  const { code } = await res.json();
  return { code, verifier };
}

const exchangeReq = (base, path, client, c, i) => ({
  url: `${base}${path}`,
  method: 'POST',
  headers: { ...form, authorization: basic(client.id, client.secret), 'cf-connecting-ip': ip(i) },
  body: new URLSearchParams({ grant_type: 'authorization_code', code: c.code, redirect_uri: CALLBACK, code_verifier: c.verifier }).toString(),
});

async function exchangeAll(base, path, client, codes) {
  return pool(codes.length, 8, async (i) => {
    const r = exchangeReq(base, path, client, codes[i], i);
    const res = await tfetch(r.url, { method: 'POST', headers: r.headers, body: r.body });
    return res.json();
  });
}

// ---------- workloads ----------
const rows = [];
async function compare(name, edge, ref) {
  const e = await edge();
  const r = ref ? await ref() : undefined;
  rows.push({ name, e, r });
  process.stderr.write(`  ${name}: edge ${e.rps.toFixed(0)} req/s${r ? `, reference ${r.rps.toFixed(0)} req/s` : ''}\n`);
}

const get = (url) => () => load({ make: (i) => ({ url, headers: { 'cf-connecting-ip': ip(i) } }), concurrency: CONCURRENCY, durationMs: DURATION });

process.stderr.write('running workloads\n');
await compare('discovery', get(`${EDGE}/.well-known/openid-configuration`), get(`${REF}/.well-known/openid-configuration`));
await compare('JWKS', get(`${EDGE}/.well-known/jwks.json`), get(`${REF}/jwks`));

const cpu = {};
await compare(
  'token (code + PKCE, RS256 id_token)',
  async () => {
    const codes = await pool(CODES, 8, edgeCode);
    const { result, cpu: ms } = await withCpu(EDGE_PGID, () =>
      load({ make: (i) => exchangeReq(EDGE, '/api/oidc/token', edgeClient, codes[i], i), concurrency: CONCURRENCY, total: codes.length, durationMs: 60_000, warmup: 0 }),
    );
    cpu.token = ms / result.requests;
    return result;
  },
  async () => {
    const codes = await pool(CODES, 8, refCode);
    return load({ make: (i) => exchangeReq(REF, '/token', REF_CLIENT, codes[i], i), concurrency: CONCURRENCY, total: codes.length, durationMs: 60_000, warmup: 0 });
  },
);

const edgeTokens = await exchangeAll(EDGE, '/api/oidc/token', edgeClient, await pool(CODES, 8, edgeCode));
const refTokens = await exchangeAll(REF, '/token', REF_CLIENT, await pool(CODES, 8, refCode));

const bearer = (url, token) => () =>
  load({ make: (i) => ({ url, headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': ip(i) } }), concurrency: CONCURRENCY, durationMs: DURATION });
await compare('userinfo', bearer(`${EDGE}/api/oidc/userinfo`, edgeTokens[0].access_token), bearer(`${REF}/me`, refTokens[0].access_token));

const refreshReq = (base, path, client, tokens) => (i) => ({
  url: `${base}${path}`,
  method: 'POST',
  headers: { ...form, authorization: basic(client.id, client.secret), 'cf-connecting-ip': ip(i) },
  body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens[i].refresh_token }).toString(),
});
await compare(
  'refresh (rotation, RS256 id_token)',
  () => load({ make: refreshReq(EDGE, '/api/oidc/token', edgeClient, edgeTokens), concurrency: CONCURRENCY, total: edgeTokens.length, durationMs: 60_000, warmup: 0 }),
  () => load({ make: refreshReq(REF, '/token', REF_CLIENT, refTokens), concurrency: CONCURRENCY, total: refTokens.length, durationMs: 60_000, warmup: 0 }),
);

// ---------- single isolate, one at a time: latency and CPU upper bound ----------
async function sequential(n, fn) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n / 2)], p99: times[Math.min(n - 1, Math.floor(n * 0.99))], n };
}

// Full login: /authorize → sign-in page → passkey assertion (software authenticator process) →
// code → token, end to end for a browser with no session.
const flows = await sequential(30, async (i) => {
  const browser = admin.anotherBrowser();
  browser.clientIp = ip(50_000 + i);
  const { verifier, challenge } = pkce();
  const q = new URLSearchParams({
    response_type: 'code', client_id: edgeClient.id, redirect_uri: CALLBACK, scope: 'openid email profile',
    state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256',
  });
  const { location } = await browser.walk(`/authorize?${q}`);
  const code = new URL(location).searchParams.get('code');
  const r = exchangeReq(EDGE, '/api/oidc/token', edgeClient, { code, verifier }, 1);
  const res = await tfetch(r.url, { method: 'POST', headers: r.headers, body: r.body });
  if (res.status !== 200) throw new Error(`login flow token: ${res.status}`);
});

// The passkey login finish alone (verification + session), measured per request; its workerd
// CPU is counted only around the finish calls.
const finishTimes = [];
let finishD1;
let finishCpu = 0;
const FINISHES = 60;
for (let i = 0; i < FINISHES; i++) {
  const browser = admin.anotherBrowser();
  browser.clientIp = ip(60_000 + i);
  const before = workerdCpuMs(EDGE_PGID);
  const t = await browser.timedSignIn();
  finishCpu += workerdCpuMs(EDGE_PGID) - before;
  finishTimes.push(t.ms);
  finishD1 = t.d1;
}
finishTimes.sort((a, b) => a - b);
// login/start is inside that window too (one small D1 insert); the CPU figure covers both calls.
cpu.finish = finishCpu / FINISHES;

// The floor: a hello-world Worker under the same local stack.
let floor;
if (FLOOR) {
  const { result, cpu: ms } = await withCpu(FLOOR_PGID, () =>
    load({ make: () => ({ url: FLOOR }), concurrency: CONCURRENCY, durationMs: DURATION }),
  );
  floor = { ...result, cpu: ms / result.requests };
  const { result: d, cpu: dms } = await withCpu(EDGE_PGID, () => get(`${EDGE}/.well-known/openid-configuration`)());
  cpu.discovery = dms / d.requests;
}

// Single-connection token exchanges: per-request latency with nothing queued.
const oneCodes = await pool(200, 4, edgeCode);
const tokenSerial = await load({ make: (i) => exchangeReq(EDGE, '/api/oidc/token', edgeClient, oneCodes[i], i), concurrency: 1, total: 200, durationMs: 60_000, warmup: 0 });

// ---------- inside the Worker isolate: V8 CPU profiles through the DevTools inspector ----------
// Sequential requests after a warm-up (so wasm is tiered up, as in a long-lived isolate).
const INSPECTOR = Number(process.env.EDGE_INSPECTOR_PORT || 0);
const isolate = {};
if (INSPECTOR) {
  const tokenCodes = await pool(300, 4, edgeCode);
  const exchange = async (i) => {
    const r = exchangeReq(EDGE, '/api/oidc/token', edgeClient, tokenCodes[i], i);
    const res = await tfetch(r.url, { method: 'POST', headers: r.headers, body: r.body });
    if (res.status !== 200) throw new Error(`profiled token: ${res.status}`);
    await res.text();
  };
  for (let i = 0; i < 100; i++) await exchange(i);
  isolate.token = await isolateCpu(INSPECTOR, 200, async () => {
    for (let i = 100; i < 300; i++) await exchange(i);
  });
  const discovery = async () => (await tfetch(`${EDGE}/.well-known/openid-configuration`)).text();
  for (let i = 0; i < 200; i++) await discovery();
  isolate.discovery = await isolateCpu(INSPECTOR, 300, async () => {
    for (let i = 0; i < 300; i++) await discovery();
  });
  // Sign-ins: start + finish are both inside the profile (the authenticator runs outside).
  isolate.signin = await isolateCpu(INSPECTOR, 40, async () => {
    for (let i = 0; i < 40; i++) {
      const browser = admin.anotherBrowser();
      browser.clientIp = ip(70_000 + i);
      await browser.timedSignIn();
    }
  });
}
const signCost = (() => {
  try {
    const out = execSync('openssl speed -seconds 1 rsa2048 ecdsap256 2>/dev/null').toString();
    // Rows end with "sign/s verify/s": per-signature ms is 1000 / sign/s.
    const rate = (re) => {
      const m = out.match(re);
      return m ? 1000 / Number(m[1]) : undefined;
    };
    return { rsa: rate(/^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)/m), ec: rate(/256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)/m) };
  } catch {
    return {};
  }
})();

// ---------- size and cold start ----------
const wasm = readFileSync(new URL('../build/index_bg.wasm', import.meta.url));
const gz = gzipSync(wasm, { level: 9 }).length;

// ---------- report ----------
const f = (x, d = 0) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const lines = [];
lines.push(`| Workload | Edge ID req/s | p50 ms | p99 ms | D1 queries | Reference req/s | p50 ms | p99 ms | Edge/Ref |`);
lines.push(`|---|---:|---:|---:|---:|---:|---:|---:|---:|`);
for (const { name, e, r } of rows) {
  lines.push(
    `| ${name} | ${f(e.rps)} | ${f(e.p50, 2)} | ${f(e.p99, 2)} | ${e.d1 ?? '–'} | ${r ? f(r.rps) : '–'} | ${r ? f(r.p50, 2) : '–'} | ${r ? f(r.p99, 2) : '–'} | ${r ? f(e.rps / r.rps, 2) + '×' : '–'} |` +
      (e.errors || r?.errors ? ` errors: edge ${e.errors} (${e.lastError ?? ''}), ref ${r?.errors ?? 0}` : ''),
  );
}
if (floor) lines.push(`| *floor: hello-world Worker, same local stack* | ${f(floor.rps)} | ${f(floor.p50, 2)} | ${f(floor.p99, 2)} | – | – | – | – | – |`);
lines.push('');
lines.push(`Concurrency ${CONCURRENCY}, ${DURATION} ms per read workload, ${CODES} codes / refresh tokens per token workload.`);
lines.push('');
lines.push('| Single requests (Edge ID, one at a time) | p50 ms | p99 ms | D1 round trips |');
lines.push('|---|---:|---:|---:|');
lines.push(`| token exchange (code + PKCE + RS256 signing) | ${f(tokenSerial.p50, 2)} | ${f(tokenSerial.p99, 2)} | ${tokenSerial.d1} |`);
lines.push(`| passkey login finish (assertion verify + session) | ${f(finishTimes[15], 2)} | ${f(finishTimes[29], 2)} | ${finishD1} |`);
lines.push(`| full login flow (authorize → passkey → code → token, incl. authenticator process) | ${f(flows.p50, 1)} | ${f(flows.p99, 1)} | – |`);
lines.push('');
lines.push('| workerd CPU per request (all workerd processes of the dev stack, /proc utime+stime) | ms |');
lines.push('|---|---:|');
lines.push(`| token exchange | ${f(cpu.token, 2)} |`);
lines.push(`| passkey login start + finish | ${f(cpu.finish, 2)} |`);
if (cpu.discovery !== undefined) lines.push(`| discovery | ${f(cpu.discovery, 2)} |`);
if (floor) lines.push(`| *floor: hello-world Worker* | ${f(floor.cpu, 2)} |`);
if (isolate.token) {
  lines.push('');
  lines.push('| Sampled ms per request inside the Worker isolate (V8 profiler, sequential, warm) | wasm (ours) | JS glue | WebCrypto | bindings (D1, KV, limits) | runtime/other | ours = wasm + glue + WebCrypto |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, v] of [['token exchange', isolate.token], ['passkey login start + finish', isolate.signin], ['discovery', isolate.discovery]]) {
    lines.push(`| ${name} | ${f(v.wasm, 2)} | ${f(v.glue, 2)} | ${f(v.webcrypto, 2)} | ${f(v.bindings, 2)} | ${f(v.runtime, 2)} | ${f(v.ours, 2)} |`);
  }
}
if (signCost.rsa) {
  lines.push('');
  lines.push(`This CPU (openssl speed): one RSA-2048 signature ${f(signCost.rsa, 3)} ms, one ECDSA P-256 signature ${f(signCost.ec, 3)} ms.`);
}
lines.push('');
lines.push(`Release wasm: ${wasm.length.toLocaleString('en')} bytes raw, ${gz.toLocaleString('en')} bytes gzip -9.`);
if (process.env.BENCH_READY_MS) lines.push(`wrangler dev + workerd ready (process start → first /healthz 200): ${process.env.BENCH_READY_MS} ms; first tenant request after start: ${process.env.BENCH_FIRST_MS ?? '–'} ms.`);
console.log(lines.join('\n'));
admin.cleanup();
// Keep-alive sockets and the inspector connection must not keep the process (and so
// scripts/bench.sh and its servers) waiting once the report is out.
process.exit(0);
