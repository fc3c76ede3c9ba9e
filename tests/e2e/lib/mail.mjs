// The loopback SMTP server of the mail suites (tests/e2e/lib/mail_catcher.py, aiosmtpd) and
// reading what it received, parsed by Python's own email package.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PYTHON = process.env.EDGE_ID_MAIL_PYTHON ?? join(ROOT, '.venv-mail', 'bin', 'python');

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts a mail catcher on a free loopback port; `stop()` when done. */
export async function startCatcher() {
  assert.ok(existsSync(PYTHON), `aiosmtpd's venv (${PYTHON}): scripts/setup.sh --browser installs it`);
  const dir = mkdtempSync(join(tmpdir(), 'eid-mail-'));
  const port = await freePort();
  const child = spawn(PYTHON, [join(ROOT, 'tests/e2e/lib/mail_catcher.py'), String(port), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
    child.on('exit', (code) => reject(new Error(`mail catcher exited ${code}`)));
  });

  /** Every message received so far, oldest first. */
  const received = () => readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));

  /** Waits for a message to `address` matching `pred` among those after the first `skip`. */
  async function mailTo(address, pred = () => true, { skip = 0, timeoutMs = 15000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = received().slice(skip).filter((m) => m.rcpt_tos.includes(address) && pred(m));
      if (found.length) return found[found.length - 1];
      if (Date.now() > deadline) throw new Error(`no mail to ${address}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    port,
    received,
    mailTo,
    /** The tenant SMTP settings that send here. */
    smtpSettings: () => ({ host: '127.0.0.1', port, tls: 'none', from_address: 'id@acme.test', from_name: 'Acme ID' }),
    stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
