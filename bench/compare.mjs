// Compares the CPU per request of two or more builds of the Worker, for judging one change on a
// machine that is not idle. Every build is loaded into this one process (bench/harness/edge.mjs,
// each with its own bindings and tenant) and measured in alternating batches, so whatever else
// runs on the cores slows each build alike; a separate run per build (bench/run.mjs) does not
// have that property, and on a shared 2-core machine its figures moved by 2-3x between runs.
//
//   bash scripts/build.sh && cp -a build /tmp/after     (and the same for the "before" checkout)
//   node --no-liftoff --no-wasm-lazy-compilation bench/compare.mjs /tmp/before /tmp/after ['token|login']
//
// Prints, per workload, each build's median CPU ms per request over the rounds (the D1/KV
// shim's CPU subtracted, as in bench/run.mjs; the harness floor is not, it is the same for every
// build) and its ratio to the first build. Knobs: COMPARE_ROUNDS (8), COMPARE_BATCH (40
// requests per batch; passkey logins a quarter of it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { edgeBench } from './harness/edge.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const filter = args.length > 2 && !args.at(-1).includes('/') ? new RegExp(args.pop()) : /./;
const builds = args.map((b) => resolve(b));
if (builds.length < 2) {
  process.stderr.write('usage: bench/compare.mjs BUILD_DIR BUILD_DIR [...] [workload regex]\n');
  process.exit(2);
}
const ROUNDS = Number(process.env.COMPARE_ROUNDS ?? 8);
const BATCH = Number(process.env.COMPARE_BATCH ?? 40);
const WARMUP = 20;
process.env.EDGE_ID_SOFT_AUTHENTICATOR ??= join(ROOT, 'target/release/soft-authenticator');
const scratch = mkdtempSync(join(tmpdir(), 'edge-id-compare-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

const benches = [];
for (const build of builds) benches.push(await edgeBench({ root: ROOT, build, scratch }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const names = benches[0].workloads.map((w) => w.name).filter((n) => filter.test(n));
const rows = [];
for (const name of names) {
  const per = benches.map((b) => ({ bench: b, w: b.workloads.find((w) => w.name === name), us: [] }));
  for (const p of per) {
    const inputs = [];
    for (let i = 0; i < WARMUP; i++) inputs.push(await p.w.prepare());
    await p.bench.cpuPerRequest(WARMUP, inputs, p.w.send, p.w.expect);
  }
  const n = per[0].w.login ? Math.max(5, BATCH >> 2) : BATCH;
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which build goes first, so neither always follows the other's garbage.
    const order = round % 2 ? [...per].reverse() : per;
    for (const p of order) {
      const inputs = [];
      for (let i = 0; i < n; i++) inputs.push(await p.w.prepare());
      p.us.push((await p.bench.cpuPerRequest(n, inputs, p.w.send, p.w.expect)).us);
    }
  }
  const ms = per.map((p) => median(p.us) / 1000);
  rows.push([name, ms]);
  process.stderr.write(`  ${name}: ${per.map((p) => p.us.map((u) => (u / 1000).toFixed(2)).join(",")).join("  /  ")}\n`);
}

const label = (b) => b.split('/').filter(Boolean).at(-1);
console.log(`| Request | ${builds.map((b, i) => `${label(b)} ms${i ? ' (ratio)' : ''}`).join(' | ')} |`);
console.log(`|---|${builds.map(() => '---:').join('|')}|`);
for (const [name, ms] of rows) {
  console.log(`| ${name} | ${ms.map((m, i) => (i ? `${m.toFixed(3)} (${(m / ms[0]).toFixed(2)})` : m.toFixed(3))).join(' | ')} |`);
}
console.log(`\n${ROUNDS} alternating rounds of ${BATCH} requests (logins ${Math.max(5, BATCH >> 2)}) per build; medians; 1-min load average ${(await import('node:os')).loadavg()[0].toFixed(1)}.`);
