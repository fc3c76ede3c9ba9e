// Shared helpers for the end-to-end tests: talk to the Worker that scripts/test.sh started on
// loopback, on per-tenant hosts.
//
// `*.localhost` names do not resolve through glibc here, and tests also use made-up custom
// domains, so every connection is pinned to 127.0.0.1 while the URL (and so the Host header)
// keeps the real tenant host.
import { Agent, fetch as undiciFetch } from 'undici';
import { randomBytes } from 'node:crypto';

export const PORT = Number(process.env.EDGE_ID_PORT ?? 8787);
export const OPERATOR_SECRET = process.env.EDGE_ID_OPERATOR_SECRET ?? '';
export const PLATFORM = `http://localhost:${PORT}`;

const loopback = new Agent({
  connect: {
    lookup(_hostname, options, callback) {
      if (options && options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    },
  },
});

/** fetch() pinned to loopback; redirects are NOT followed unless asked. */
export function tfetch(url, init = {}) {
  return undiciFetch(url, { redirect: 'manual', ...init, dispatcher: loopback });
}

export function tenantBase(slug) {
  return `http://${slug}.localhost:${PORT}`;
}

/** Calls the operator API; `body` is an object (sent as JSON) or a string (sent as is). */
export async function operator(method, path, body, secret = OPERATOR_SECRET) {
  const res = await tfetch(`${PLATFORM}/operator/api${path}`, {
    method,
    headers: {
      ...(secret === null ? {} : { authorization: `Bearer ${secret}` }),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/**
 * Runs the Worker's scheduled handler for the trigger `cron` as if it fired at `timeMs` (unix
 * milliseconds), through wrangler dev's local trigger endpoint.
 */
export async function runScheduled(cron, timeMs) {
  const res = await tfetch(`${PLATFORM}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}&time=${timeMs}`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`scheduled ${cron} at ${timeMs}: ${res.status} ${text}`);
}

/** A unique slug per test so suites running in parallel never share a tenant. */
export function uniqueSlug(prefix = 't') {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Creates a tenant and returns the operator API's view of it (issuer, setup_url...). */
export async function createTenant(prefix = 't', displayName = 'Test Tenant') {
  const slug = uniqueSlug(prefix);
  const res = await operator('POST', '/tenants', { slug, display_name: displayName });
  if (res.status !== 201) throw new Error(`creating ${slug}: ${res.status} ${res.text}`);
  return res.json;
}

export async function getJson(url, init) {
  const res = await tfetch(url, init);
  const body = await res.json();
  return { status: res.status, body, headers: res.headers };
}
