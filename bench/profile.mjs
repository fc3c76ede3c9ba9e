// CPU time inside the Worker's own isolate, from a V8 CPU profile taken through wrangler dev's
// DevTools inspector (the same Profiler the DevTools "Profiler" tab uses). Unlike /proc counts
// of the workerd processes, this leaves out wrangler's proxy worker and the local D1 (its own
// Durable Object isolate): it is the part Cloudflare bills as a Worker's CPU time.

import { WebSocket } from 'undici';

/** Opens the inspector's WebSocket and returns a `send(method, params)` for CDP calls. */
async function connect(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  // wrangler's inspector proxy insists on an Origin (it guards against drive-by pages).
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: `http://127.0.0.1:${port}` } });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 1;
  const waiting = new Map();
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id && waiting.has(msg.id)) {
      const { resolve, reject } = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) reject(new Error(`${msg.error.message}`));
      else resolve(msg.result);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

const WEBCRYPTO = new Set(['sign', 'verify', 'digest', 'importKey', 'exportKey', 'generateKey', 'encrypt', 'decrypt']);

/**
 * Sampled time (ms) per category. The profiler samples the isolate's thread, and locally the
 * D1 Durable Object and wrangler's proxy run on workerd threads too, so their work can show up
 * inside our `fetch`/`Response` frames: only the first three categories are ours for certain.
 *   wasm       our Rust code
 *   glue       our bundle's JS (wasm-bindgen glue, workers-rs shim; wrangler's dev middleware is
 *              bundled in too) and wasm<->JS transitions
 *   webcrypto  WebCrypto calls (RS256/ES256 signing, digests)
 *   bindings   D1 / KV / rate-limit bindings and fetch (includes local D1's own work)
 *   runtime    everything else non-idle: Response construction, V8, GC, workerd internals
 */
function summarise(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = { wasm: 0, glue: 0, webcrypto: 0, bindings: 0, runtime: 0 };
  const top = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const frame = byId.get(profile.samples[i]).callFrame;
    const name = frame.functionName;
    if (name === '(idle)') continue;
    if (frame.url.startsWith('wasm://') || /^(\$|wasm-function)/.test(name)) out.wasm += dt;
    else if (WEBCRYPTO.has(name)) out.webcrypto += dt;
    else if (frame.url.endsWith('index.js') || name === 'wasm-to-js' || name === 'js-to-wasm') out.glue += dt;
    else if (frame.url.startsWith('cloudflare-internal:') || name === 'fetch') out.bindings += dt;
    else out.runtime += dt;
    const k = `${name || '(anonymous)'} ${frame.url}`;
    top.set(k, (top.get(k) ?? 0) + dt);
  }
  if (process.env.PROFILE_TOP) console.error([...top].sort((a, b) => b[1] - a[1]).slice(0, 15));
  out.ours = out.wasm + out.glue + out.webcrypto;
  return out;
}

/**
 * Runs `fn` (which makes `requests` requests) under the CPU profiler of the Worker isolate
 * behind `inspectorPort`; returns per-request milliseconds by category.
 */
export async function isolateCpu(inspectorPort, requests, fn) {
  const cdp = await connect(inspectorPort);
  try {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
    await cdp.send('Profiler.start');
    await fn();
    const { profile } = await cdp.send('Profiler.stop');
    const s = summarise(profile);
    const per = {};
    for (const [k, v] of Object.entries(s)) per[k] = v / requests;
    return per;
  } finally {
    cdp.close();
  }
}
