// Mail in the end-to-end tests: a real SMTP server on loopback (aiosmtpd, tests/e2e/lib/
// mail_catcher.py) whose received messages the tests read back parsed, and the helpers every
// mail suite needs (waiting, the audit log, form posts).
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminApi } from './person.mjs';
import { launch } from './browser.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PYTHON = process.env.EDGE_ID_MAIL_PYTHON ?? join(ROOT, '.venv-mail', 'bin', 'python');
export const CATCHER = join(ROOT, 'tests/e2e/lib/mail_catcher.py');

/** A TCP port free on loopback right now. */
export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the mail catcher on a free loopback port. Returns its `port`, the `log` it printed so
 * far (a getter), `received()` (every message, parsed by Python's email package), `mailTo()`,
 * `mailAfter()`, `smtpSettings()` and `stop()`.
 */
export async function startMailCatcher() {
  assert.ok(existsSync(PYTHON), `aiosmtpd's venv (${PYTHON}): scripts/setup.sh --browser installs it`);
  const dir = mkdtempSync(join(tmpdir(), 'eid-mail-'));
  const port = await freePort();
  const child = spawn(PYTHON, [CATCHER, String(port), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let log = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      log += String(d);
      if (log.includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`mail catcher exited ${code}`)));
  });
  const received = () => readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
  return {
    port,
    dir,
    get log() { return log; },
    received,
    /** Waits for a message to `address` matching `pred` (the Worker may send after its response). */
    async mailTo(address, pred = () => true, timeoutMs = 15000) {
      return until(() => {
        const found = received().filter((m) => m.rcpt_tos.includes(address) && pred(m));
        return found[found.length - 1];
      }, timeoutMs, `a mail to ${address}`);
    },
    /** Waits for a mail to `address` matching `pred` among those received after the first `seen`. */
    mailAfter(seen, address, pred = () => true, timeoutMs = 15000) {
      return until(() => received().slice(seen).find((m) => m.rcpt_tos.includes(address) && pred(m)),
        timeoutMs, `a mail to ${address}`);
    },
    /** A tenant's SMTP settings (`PUT /api/application-configuration`) that send here. */
    smtpSettings(extra = {}) {
      return { host: '127.0.0.1', port, tls: 'none', from_address: 'id@acme.test', from_name: 'Acme ID', ...extra };
    },
    stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `fn` returns something truthy, and returns it. */
export async function until(fn, timeoutMs = 15000, what = 'a condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The tenant's audit entries of `event`, newest first, with their details parsed. */
export async function auditEvents(base, apiKey, event) {
  const res = await adminApi(base, apiKey, 'GET', `/api/audit-logs?event=${event}&limit=100`);
  return res.json.data.map((e) => ({ ...e, details: typeof e.details === 'string' ? JSON.parse(e.details) : e.details }));
}

/** A form POST's fetch options. */
export function form(fields) {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

/**
 * The mail catcher and Chromium of a mail suite, started before its tests and stopped after
 * them. Live bindings: read them after `before` ran (inside tests). Each test file runs in its
 * own process, so each suite has its own.
 */
export let catcher;
export let browser;

/** Registers the suite's before/after hooks that start and stop [`catcher`] and [`browser`]. */
export function withCatcherAndBrowser() {
  before(async () => {
    catcher = await startMailCatcher();
    browser = await launch();
  });
  after(async () => {
    catcher?.stop();
    await browser?.close();
  });
}
