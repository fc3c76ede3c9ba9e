// Throughput smoke figures: the release Worker in workerd through Miniflare's Node API (no wrangler
// dev proxy), with Miniflare's local D1 and KV, on loopback; beside it a hello-world Worker
// (bench/hello/worker.js) in its own Miniflare, the floor of this stack on this machine. The
// load generator (bench/load.mjs) runs on the same cores, so these are smoke figures only.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Miniflare } from 'miniflare';
import { load } from './load.mjs';

const CONCURRENCY = 16;

function statements(sql) {
  return sql
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s && !/^PRAGMA/i.test(s));
}

export async function throughputFigures({ root, durationMs }) {
  const rows = [];
  const run = async (name, url, headers = {}) => {
    const r = await load({ make: () => ({ url, headers }), concurrency: CONCURRENCY, durationMs });
    rows.push({ name, ...r });
  };

  const worker = (name, modules, env = {}) => ({
    config: { name, compatibilityDate: '2026-01-01', manifest: { mainModule: Object.keys(modules)[0], modules }, env },
  });
  const floor = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    workers: [worker('floor', { 'worker.js': { type: 'esm', contents: readFileSync(join(root, 'bench/hello/worker.js'), 'utf8') } })],
  });
  try {
    const url = await floor.ready;
    await run('floor: hello-world Worker', url.href);
  } finally {
    await floor.dispose();
  }

  const secret = randomBytes(18).toString('base64url');
  const limit = (namespace) => ({ type: 'rate-limit', namespace, simple: { limit: 1_000_000, period: 60 } });
  const text = (value) => ({ type: 'text', value });
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    workers: [
      worker(
        'edge-id',
        {
          'index.js': { type: 'esm', contents: readFileSync(join(root, 'build/index.js'), 'utf8') },
          'index_bg.wasm': { type: 'wasm', contents: new Uint8Array(readFileSync(join(root, 'build/index_bg.wasm'))) },
        },
        {
          DB: { type: 'd1', id: 'bench' },
          CACHE: { type: 'kv', id: 'bench' },
          SIGNIN_LIMITER: limit('1001'),
          TOKEN_LIMITER: limit('1002'),
          BASE_DOMAIN: text('localhost'),
          EXPOSE_METRICS: text('1'),
          MASTER_KEY: text(randomBytes(32).toString('base64')),
          OPERATOR_SECRET: text(secret),
        },
      ),
    ],
  });
  try {
    const url = await mf.ready;
    const db = await mf.getD1Database('DB');
    const dir = join(root, 'migrations');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
      await db.batch(statements(readFileSync(join(dir, f), 'utf8')).map((s) => db.prepare(s)));
    }
    const slug = `tp-${randomBytes(3).toString('hex')}`;
    const res = await mf.dispatchFetch(`http://localhost/operator/api/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug, display_name: 'Throughput' }),
    });
    if (res.status !== 201) throw new Error(`creating the tenant: ${res.status} ${await res.text()}`);
    await res.text();
    const tenant = `http://${slug}.localhost:${url.port}`;
    await run('Edge ID /healthz', `${url.origin}/healthz`);
    await run('Edge ID discovery', `${tenant}/.well-known/openid-configuration`);
    await run('Edge ID JWKS', `${tenant}/.well-known/jwks.json`);
  } finally {
    await mf.dispose();
  }
  return { rows, concurrency: CONCURRENCY };
}
