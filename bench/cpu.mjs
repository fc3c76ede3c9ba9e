// CPU per request of the release Worker, for before/after comparisons of CPU work (issue 14).
// Run through bench/cpu.sh, which starts the build and a trivial Worker (bench/hello) in wrangler
// dev and passes their process ids.
//
// N sequential requests of each kind; the CPU time of the instance's workerd processes is read
// from /proc before and after. The trivial Worker's cost per request (wrangler's proxy worker,
// HTTP) is subtracted. What remains still includes local D1's simulation (in workerd, ~1 ms per
// query here), the same before and after a change to the Worker's own code: compare builds with
// it, do not read the figures as Cloudflare's billed CPU.
import { readFileSync, readdirSync } from 'node:fs';

const N = Number(process.argv[2] ?? 30);

/** CPU milliseconds used so far by the workerd processes descending from process `root`. */
function workerdCpuMs(root) {
  const parent = new Map();
  const stat = new Map();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      parent.set(pid, fields[1]);
      stat.set(pid, { comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while we looked.
    }
  }
  const descends = (pid) => {
    for (let p = pid; p && p !== '0' && p !== '1'; p = parent.get(p)) if (p === String(root)) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, s] of stat) if (s.comm.startsWith('workerd') && descends(pid)) ticks += s.ticks;
  return (ticks * 1000) / 100; // USER_HZ = 100
}

/** Runs `fn` `n` times (after 3 warm-up calls) and returns workerd CPU ms per call. */
async function perCall(root, n, fn) {
  for (let i = 0; i < 3; i++) await fn(i); // lazy compilation, per-isolate caches
  const before = workerdCpuMs(root);
  for (let i = 0; i < n; i++) await fn(i);
  return (workerdCpuMs(root) - before) / n;
}

const { tfetch } = await import('../tests/e2e/lib/env.mjs');
const ROOT_PID = process.env.EDGE_ID_WORKERD_ROOT;
const trivial = await perCall(process.env.EDGE_ID_HELLO_ROOT, N * 3, async () => {
  await (await tfetch(`http://localhost:${process.env.EDGE_ID_HELLO_PORT}/`)).text();
});
{
  const { createTenant } = await import('../tests/e2e/lib/env.mjs');
  const { tenantWithAdmin } = await import('../tests/e2e/lib/person.mjs');
  const { createClient, authorizeQuery, exchange, tokenRequest, login, CALLBACK } = await import('../tests/e2e/lib/oidc.mjs');
  const T = await tenantWithAdmin(createTenant, 'cpu');
  const person = T.admin;
  // The sign-in rate limit is per client address: give every request its own.
  let ip = 0;
  const fetchAsAnyone = person.fetch.bind(person);
  person.fetch = (path, init) => {
    ip++;
    person.clientIp = `198.51.${(ip >> 8) & 255}.${ip & 255}`;
    return fetchAsAnyone(path, init);
  };
  const results = {};

  // Sign-ins: the responses are made first (login/start and the soft authenticator), then only
  // the login/finish requests are measured.
  const { softAuth } = await import('../tests/e2e/lib/person.mjs');
  const credentials = [];
  for (let i = 0; i < N + 3; i++) {
    const { options } = await person.postJson('/api/webauthn/login/start', {});
    credentials.push(await softAuth(['login', '--state', person.state, '--origin', person.base], options));
  }
  results['login finish'] = await perCall(ROOT_PID, N, async () => {
    const credential = credentials.shift();
    await person.postJson('/api/webauthn/login/finish', { credential, next: '/account' });
  });

  for (const alg of ['ES256', 'RS256']) {
    const client = await createClient(T.base, T.apiKey, { name: `App ${alg}`, id_token_signed_response_alg: alg });
    const { tokens } = await login(T.base, person, client);
    // Codes first (authorize with the session and a valid id_token_hint), then the exchanges.
    const codes = [];
    const authorizeMs = await perCall(ROOT_PID, N, async () => {
      const q = authorizeQuery(client, { id_token_hint: tokens.id_token });
      const res = await person.fetch(`/authorize?${q}`);
      const location = res.headers.get('location') ?? '';
      if (!location.startsWith(CALLBACK)) throw new Error(`authorize: ${res.status} ${location}`);
      codes.push(new URL(location).searchParams.get('code'));
    });
    if (alg === 'ES256') results['authorize (session + id_token_hint ES256)'] = authorizeMs;
    else results['authorize (session + id_token_hint RS256)'] = authorizeMs;
    const next = [...codes];
    results[`token ${alg} (code)`] = await perCall(ROOT_PID, N, async () => {
      const r = await exchange(T.base, client, next.shift());
      if (r.status !== 200) throw new Error(`token: ${r.status} ${JSON.stringify(r.json)}`);
    });
    let refreshToken = tokens.refresh_token;
    results[`refresh ${alg}`] = await perCall(ROOT_PID, N, async () => {
      const r = await tokenRequest(T.base, client, { grant_type: 'refresh_token', refresh_token: refreshToken });
      if (r.status !== 200) throw new Error(`refresh: ${r.status} ${JSON.stringify(r.json)}`);
      refreshToken = r.json.refresh_token;
    });
  }
  console.log(`build: ${process.env.EDGE_ID_BUILD}, N=${N}; trivial Worker request: ${trivial.toFixed(2)} ms (subtracted)`);
  for (const [name, ms] of Object.entries(results)) {
    const own = ms - trivial;
    console.log(`${name.padEnd(44)} ${own.toFixed(2)} ms workerd CPU per request`);
  }
  person.cleanup();
}
