// A small closed-loop load generator: `concurrency` workers each send the next request as soon
// as the previous one answered, over keep-alive connections pinned to loopback. Reports
// throughput and latency percentiles; any non-expected status counts as an error.
import { Agent, request } from 'undici';
import { performance } from 'node:perf_hooks';

export function loopbackAgent(connections) {
  return new Agent({
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    connect: {
      lookup(_h, options, cb) {
        if (options && options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
        else cb(null, '127.0.0.1', 4);
      },
    },
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Runs `make(i)` → { url, method, headers, body, expect } until `total` requests are done or
 * `durationMs` passes. Returns { requests, rps, p50, p99, errors, d1 } (d1: the
 * x-edge-id-d1-queries header of the last response, when present).
 */
export async function load({ make, concurrency = 16, total = Infinity, durationMs = 5000, warmup = 50 }) {
  const dispatcher = loopbackAgent(concurrency);
  const send = async (i) => {
    const r = make(i);
    const t0 = performance.now();
    const res = await request(r.url, { method: r.method ?? 'GET', headers: r.headers, body: r.body, dispatcher });
    await res.body.arrayBuffer();
    const ms = performance.now() - t0;
    return { ms, ok: res.statusCode === (r.expect ?? 200), d1: res.headers['x-edge-id-d1-queries'], status: res.statusCode };
  };
  let next = 0;
  for (; next < Math.min(warmup, total === Infinity ? warmup : Math.floor(total / 10)); next++) await send(next);
  const latencies = [];
  let errors = 0;
  let d1;
  let lastError;
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async () => {
    while (next < total && performance.now() < deadline) {
      const i = next++;
      const r = await send(i);
      latencies.push(r.ms);
      if (!r.ok) {
        errors++;
        lastError = r.status;
      }
      d1 = r.d1 ?? d1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - start) / 1000;
  await dispatcher.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    lastError,
    d1: d1 === undefined ? undefined : Number(d1),
  };
}
