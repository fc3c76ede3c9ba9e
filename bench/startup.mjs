// Startup of the release Worker in a fresh Node 22 process with V8's default wasm tiering (as
// workerd runs it): wasm compile, module evaluation (which instantiates), first and second request.
// Started by bench/run.mjs; prints one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freshDatabase, D1Database, KvNamespace, Ratelimit } from './harness/bindings.mjs';
import { loadEdgeWorker } from './harness/worker.mjs';
import { call } from './harness/client.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'edge-id-startup-'));
try {
  const d1 = new D1Database(freshDatabase(ROOT));
  const env = { DB: d1, CACHE: new KvNamespace(), SIGNIN_LIMITER: new Ratelimit(), TOKEN_LIMITER: new Ratelimit(), BASE_DOMAIN: 'localhost' };
  const edge = await loadEdgeWorker(join(ROOT, 'build'), scratch, env);
  const t0 = performance.now();
  const first = await call(edge, 'http://localhost/healthz');
  const firstMs = performance.now() - t0;
  const second = await call(edge, 'http://localhost/healthz');
  console.log(JSON.stringify({ ...edge.startup, firstMs, firstStatus: first.res.status, secondMs: second.ms }));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
