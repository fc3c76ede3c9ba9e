// A test double of the D1 binding around the real Worker bundle (build/index.js): a request
// carrying `x-test-d1-fault: N` sees its N-th D1 call (a statement's all/run/first/raw, or a
// batch) fail with a D1-style error before it reaches the database, so nothing of that call is
// written. Used only by tests/e2e/faults.test.mjs through tests/faults/wrangler.toml; the
// deployed Worker never contains it.
import { WorkerEntrypoint } from 'cloudflare:workers';
import EdgeId from '../../build/index.js';

const CALLS = ['all', 'run', 'first', 'raw'];

function faultyD1(db, failAt, log) {
  let calls = 0;
  const hit = (what) => {
    calls += 1;
    log.push(what);
    if (calls === failAt) throw new Error(`D1_ERROR: injected fault on D1 call ${calls} (${what})`);
  };
  const wrap = (stmt) =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === '__inner') return target;
        if (prop === 'bind') return (...args) => wrap(target.bind(...args));
        if (CALLS.includes(prop)) {
          return async (...args) => {
            hit(prop);
            return target[prop](...args);
          };
        }
        return passThrough(target, prop);
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql) => wrap(target.prepare(sql));
      if (prop === 'batch') {
        return async (statements) => {
          hit('batch');
          return target.batch(statements.map((s) => s.__inner ?? s));
        };
      }
      return passThrough(target, prop);
    },
  });
}

// Methods are bound to the real object; `constructor` is left alone because workers-rs checks
// a binding's type by its constructor's name (`D1Database`).
function passThrough(target, prop) {
  const value = Reflect.get(target, prop);
  return typeof value === 'function' && prop !== 'constructor' ? value.bind(target) : value;
}

export default class extends WorkerEntrypoint {
  async fetch(request) {
    const failAt = Number(request.headers.get('x-test-d1-fault') ?? 0);
    const log = [];
    const env = failAt > 0 ? { ...this.env, DB: faultyD1(this.env.DB, failAt, log) } : this.env;
    const response = await new EdgeId(this.ctx, env).fetch(request);
    if (failAt === 0) return response;
    // Tell the test which calls the request made, so it can walk every fault position.
    const headers = new Headers(response.headers);
    headers.set('x-test-d1-calls', log.join(','));
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }

  async scheduled(controller) {
    return new EdgeId(this.ctx, this.env).scheduled(controller);
  }
}
