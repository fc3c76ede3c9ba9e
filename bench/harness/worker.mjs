// Loads a Worker module into this Node process and calls its fetch handler directly: no HTTP, no
// proxy, no workerd. The release Worker (build/index.js from scripts/build.sh) imports
// `cloudflare:workers` (for WorkerEntrypoint) and its wasm as a module (`import x from
// "./index_bg.wasm"`), which Node cannot resolve: a copy of index.js is written with those two
// imports replaced by globals this loader provides, and the wasm is compiled here (timed).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

class WorkerEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} };
let loads = 0;

/**
 * Loads build/index.js (and index_bg.wasm beside it). Returns { fetch(request), startup } where
 * startup = { compileMs, evaluateMs } (wasm compile; module evaluation, which instantiates).
 */
export async function loadEdgeWorker(buildDir, scratchDir, env) {
  const src = readFileSync(join(buildDir, 'index.js'), 'utf8');
  let patched = src.replace(/import\s*\{\s*WorkerEntrypoint as ([\w$]+)\s*\}\s*from\s*["']cloudflare:workers["'];?/, 'const {WorkerEntrypoint:$1}=globalThis.__benchCloudflareWorkers;');
  patched = patched.replace(/import\s+([\w$]+)\s+from\s*["']\.\/index_bg\.wasm["'];?/, 'const $1=globalThis.__benchWasmModule;');
  if (patched.includes('cloudflare:workers') || patched.includes('index_bg.wasm"')) throw new Error('unexpected build/index.js imports: update bench/harness/worker.mjs');
  mkdirSync(scratchDir, { recursive: true });
  const file = join(scratchDir, `edge-worker-${process.pid}-${loads++}.mjs`);
  writeFileSync(file, patched);

  const bytes = readFileSync(join(buildDir, 'index_bg.wasm'));
  const t0 = performance.now();
  const module = new WebAssembly.Module(bytes);
  const t1 = performance.now();
  globalThis.__benchCloudflareWorkers = { WorkerEntrypoint };
  globalThis.__benchWasmModule = module;
  // workerd's global scope has addEventListener (the glue listens for uncaught errors).
  globalThis.addEventListener ??= () => {};
  const mod = await import(pathToFileURL(file).href);
  const t2 = performance.now();
  const Entry = mod.default;
  return {
    fetch: (request) => new Entry(ctx, env).fetch(request),
    startup: { compileMs: t1 - t0, evaluateMs: t2 - t1 },
  };
}

/** Loads a plain module Worker (`export default { fetch }`), e.g. bench/hello/worker.js. */
export async function loadModuleWorker(path, env) {
  const mod = await import(pathToFileURL(path).href);
  return { fetch: (request) => mod.default.fetch(request, env, ctx) };
}
