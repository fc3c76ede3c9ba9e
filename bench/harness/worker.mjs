// Loads a Worker module into this Node process and calls its fetch handler directly: no HTTP, no
// proxy, no workerd. The release Worker (build/index.js from scripts/build.sh) imports the
// runtime's `cloudflare:*` modules (`workers` for WorkerEntrypoint, `sockets` and `email` for
// mail) and its wasm as a module (`import x from "./index_bg.wasm"`), which Node cannot resolve:
// a copy of index.js is written with those imports replaced by globals this loader provides
// (mail is never sent by the benchmark's requests: its stand-ins refuse), and the wasm is
// compiled here (timed).
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

/** What the Worker's `cloudflare:*` imports resolve to here. */
const cloudflareModules = {
  workers: { WorkerEntrypoint },
  sockets: {
    connect() {
      throw new Error('no sockets in the benchmark');
    },
  },
  email: {
    EmailMessage: class {
      constructor() {
        throw new Error('no email in the benchmark');
      }
    },
  },
};

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} };
let loads = 0;

/**
 * Loads build/index.js (and index_bg.wasm beside it). Returns { fetch(request), startup } where
 * startup = { compileMs, evaluateMs } (wasm compile; module evaluation, which instantiates).
 */
export async function loadEdgeWorker(buildDir, scratchDir, env) {
  const src = readFileSync(join(buildDir, 'index.js'), 'utf8');
  // `import{A as B,C}from"cloudflare:x"` becomes `const{A:B,C}=globalThis.__benchCloudflare.x`.
  let patched = src.replace(/import\s*\{([^}]*)\}\s*from\s*["']cloudflare:([\w-]+)["'];?/g, (_, names, module) => {
    if (!(module in cloudflareModules)) throw new Error(`build/index.js imports cloudflare:${module}: add it to bench/harness/worker.mjs`);
    return `const{${names.replace(/\s+as\s+/g, ':')}}=globalThis.__benchCloudflare[${JSON.stringify(module)}];`;
  });
  patched = patched.replace(/import\s+([\w$]+)\s+from\s*["']\.\/index_bg\.wasm["'];?/, 'const $1=globalThis.__benchWasmModule;');
  if (patched.includes('"cloudflare:') || patched.includes('index_bg.wasm"')) throw new Error('unexpected build/index.js imports: update bench/harness/worker.mjs');
  mkdirSync(scratchDir, { recursive: true });
  const file = join(scratchDir, `edge-worker-${process.pid}-${loads++}.mjs`);
  writeFileSync(file, patched);

  const bytes = readFileSync(join(buildDir, 'index_bg.wasm'));
  const t0 = performance.now();
  const module = new WebAssembly.Module(bytes);
  const t1 = performance.now();
  globalThis.__benchCloudflare = cloudflareModules;
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
