// Stand-ins for the Worker's bindings when the release Worker runs directly in Node (bench/harness
// /worker.mjs): D1 over node:sqlite, KV in memory, rate limiters that always allow.
//
// D1 round trips. Every call that reaches the primary is one round trip: each `batch()`, each
// `prepare().first/all/run/raw` and each `exec`. A Sessions API session (`withSession`) stands for
// reads a nearby replica may serve: its calls are counted separately. Before answering, a round
// trip sleeps `rttMs` (primary) or `replicaRttMs` (replica), so the latency a far-away primary adds
// shows up in wall time while the Worker's CPU does not change.
//
// The shim's own CPU (SQLite executing the query, converting rows) is not the Worker's: on
// Cloudflare it runs in D1, not in the isolate. It is measured around each synchronous section with
// process.cpuUsage() and kept in `stats.shimCpuUs`, so the benchmark can subtract it.
import { DatabaseSync } from 'node:sqlite';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The whole process's CPU time, not the main thread's: Node runs WebCrypto's signing on its
// thread pool (an RSA signature costs the main thread 0.09 ms of its 0.24), where workerd signs
// on the isolate's thread, so only the process figure holds the request's crypto.
const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Applies migrations/*.sql in order to a fresh in-memory database, as `wrangler d1 migrations apply` does. */
export function freshDatabase(root) {
  const db = new DatabaseSync(':memory:');
  // D1 enforces foreign keys.
  db.exec('PRAGMA foreign_keys = ON;');
  const dir = join(root, 'migrations');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) db.exec(readFileSync(join(dir, f), 'utf8'));
  return db;
}

export class D1Stats {
  constructor() {
    this.reset();
  }
  reset() {
    this.primary = 0;
    this.replica = 0;
    this.statements = 0;
    this.shimCpuUs = 0;
    this.waitedMs = 0;
  }
}

function normalize(v) {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return v;
}

class Statement {
  constructor(conn, sql, params = []) {
    this.conn = conn;
    this.sql = sql;
    this.params = params;
  }
  bind(...params) {
    return new Statement(this.conn, this.sql, params.map(normalize));
  }
  /** Runs synchronously on the SQLite connection; returns a D1 result object. */
  execSync() {
    const db = this.conn.db;
    let stmt = this.conn.cache.get(this.sql);
    if (!stmt) {
      stmt = db.prepare(this.sql);
      this.conn.cache.set(this.sql, stmt);
    }
    let results;
    let changes = 0;
    let lastRowId = 0;
    if (stmt.columns().length > 0) {
      results = stmt.all(...this.params);
      changes = Number(this.conn.changes.get().c);
    } else {
      const r = stmt.run(...this.params);
      results = [];
      changes = Number(r.changes);
      lastRowId = Number(r.lastInsertRowid);
    }
    this.conn.stats.statements++;
    return { results, success: true, meta: { changes, last_row_id: lastRowId, duration: 0, rows_read: 0, rows_written: changes, changed_db: changes > 0, served_by: 'bench-shim' } };
  }
  async all() {
    return this.conn.roundTrip(() => this.execSync());
  }
  async run() {
    return this.conn.roundTrip(() => this.execSync());
  }
  async first(column) {
    const r = await this.conn.roundTrip(() => this.execSync());
    const row = r.results[0];
    if (row === undefined) return null;
    return column === undefined ? row : row[column];
  }
  async raw(options = {}) {
    const r = await this.conn.roundTrip(() => this.execSync());
    const rows = r.results.map((row) => Object.values(row));
    if (options.columnNames) rows.unshift(Object.keys(r.results[0] ?? {}));
    return rows;
  }
}

/** One way into the database: the primary or a replica session. */
class Connection {
  constructor(shared, kind) {
    this.db = shared.db;
    this.cache = shared.cache;
    this.changes = shared.changes;
    this.stats = shared.stats;
    this.shared = shared;
    this.kind = kind;
  }
  async roundTrip(work) {
    const t0 = cpuNow();
    let out;
    let err;
    try {
      out = work();
    } catch (e) {
      err = e;
    }
    this.stats.shimCpuUs += cpuNow() - t0;
    if (this.kind === 'replica') this.stats.replica++;
    else this.stats.primary++;
    const rtt = this.kind === 'replica' ? this.shared.replicaRttMs : this.shared.rttMs;
    if (rtt > 0) {
      const w0 = performance.now();
      await sleep(rtt);
      this.stats.waitedMs += performance.now() - w0;
    }
    if (err) throw new Error(`D1_ERROR: ${err.message}`);
    return out;
  }
  prepare(sql) {
    return new Statement(this, sql);
  }
  async batch(statements) {
    return this.roundTrip(() => {
      this.db.exec('BEGIN');
      try {
        const out = statements.map((s) => new Statement(this, s.sql, s.params).execSync());
        this.db.exec('COMMIT');
        return out;
      } catch (e) {
        this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }
  async exec(sql) {
    return this.roundTrip(() => {
      this.db.exec(sql);
      return { count: 1, duration: 0 };
    });
  }
}

// worker-rs checks a binding's constructor name: it must be `D1Database`.
export class D1Database extends Connection {
  constructor(db, { rttMs = 0, replicaRttMs = 0 } = {}) {
    const shared = { db, cache: new Map(), changes: db.prepare('SELECT changes() AS c'), stats: new D1Stats(), rttMs, replicaRttMs };
    super(shared, 'primary');
  }
  setRtt(rttMs, replicaRttMs = this.shared.replicaRttMs) {
    this.shared.rttMs = rttMs;
    this.shared.replicaRttMs = replicaRttMs;
  }
  withSession() {
    return new D1DatabaseSession(this.shared);
  }
}

class D1DatabaseSession extends Connection {
  constructor(shared) {
    super(shared, 'replica');
  }
  getBookmark() {
    return 'bench-bookmark';
  }
}

// worker-kv reads the binding through its methods; values are strings here.
export class KvNamespace {
  constructor(stats) {
    this.map = new Map();
    this.stats = stats;
  }
  async get(key, opts) {
    const t0 = cpuNow();
    const e = this.map.get(key);
    let v = null;
    if (e && (!e.exp || e.exp > Date.now())) v = e.value;
    const type = typeof opts === 'string' ? opts : opts?.type;
    if (v !== null && type === 'json') v = JSON.parse(v);
    if (this.stats) this.stats.shimCpuUs += cpuNow() - t0;
    return v;
  }
  async getWithMetadata(key, opts) {
    return { value: await this.get(key, opts), metadata: null };
  }
  async put(key, value, opts = {}) {
    const ttl = opts.expirationTtl ?? opts.expiration_ttl;
    this.map.set(key, { value: typeof value === 'string' ? value : String(value), exp: ttl ? Date.now() + ttl * 1000 : 0 });
  }
  async delete(key) {
    this.map.delete(key);
  }
  async list() {
    return { keys: [...this.map.keys()].map((name) => ({ name })), list_complete: true };
  }
}

// worker-rs checks the constructor name `Ratelimit`.
export class Ratelimit {
  async limit() {
    return { success: true };
  }
}
