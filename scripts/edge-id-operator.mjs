#!/usr/bin/env node
// Edge ID operator CLI: manage tenants through the operator API of a local or deployed instance.
//
//   node scripts/edge-id-operator.mjs <command> [args]      (or: npm run operator -- <command>)
//
// Target and credentials: --url/--secret flags, else OPERATOR_URL/OPERATOR_SECRET, else the local
// dev instance (http://localhost:8787 and the OPERATOR_SECRET in .dev.vars).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const USAGE = `usage: edge-id-operator <command>
  list                                  list tenants
  create <slug> <display name>          create a tenant; prints its first-admin setup link
  get <slug>                            show a tenant
  suspend <slug> | resume <slug>        stop / restart serving a tenant
  delete <slug> --yes                   delete a tenant and ALL its data
  setup-link <slug>                     a fresh first-admin link (only before anyone signed up)
  add-domain <slug> <host>              serve the tenant on a custom domain too
  remove-domain <slug> <host>
  rotate-keys <slug> [RS256|ES256] [--overlap-days N] [--immediate]
                                        publish a new key; it signs once every cached JWKS
                                        holds it (1.2 to 2.2 hours: hourly promotion).
                                        --immediate: emergency (leaked key), signs at once;
                                        clients with a cached JWKS fail until they re-fetch
  key-self-test <slug>                  sign probe tokens with the current keys
  api-key <slug> [name] [--days N]      mint an admin API key for the tenant's REST API
  add-client <slug> <name> <callback-url> [--access] [--public]
                                        register an OIDC client (--access: Cloudflare Access
                                        settings, claims in the id_token); prints id and secret
  ensure-demo <slug> <display name>     create the tenant unless it exists (used by scripts/dev.sh)
options: --url URL  --secret SECRET  --json`;

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
};
const bool = (name) => {
  const i = args.indexOf(name);
  if (i === -1) return false;
  args.splice(i, 1);
  return true;
};

function localSecret() {
  try {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const vars = readFileSync(join(root, '.dev.vars'), 'utf8');
    return vars.match(/^OPERATOR_SECRET="?([^"\n]*)"?$/m)?.[1];
  } catch {
    return undefined;
  }
}

const url = (flag('--url') ?? process.env.OPERATOR_URL ?? 'http://localhost:8787').replace(/\/$/, '');
const secret = flag('--secret') ?? process.env.OPERATOR_SECRET ?? localSecret();
// Whole numbers only: Number('abc') is NaN, which JSON.stringify sends as null.
const integer = (name) => {
  const raw = flag(name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) {
    console.error(`${name} takes a whole number of days, not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return Number(raw);
};
const overlapDays = integer('--overlap-days');
const days = integer('--days');
const immediate = bool('--immediate');
const asJson = bool('--json');
const accessPreset = bool('--access');
const publicClient = bool('--public');
const yes = bool('--yes');
const [command, ...rest] = args;

async function call(method, path, body) {
  const res = await fetch(`${url}/operator/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${secret ?? ''}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    data = { message: text };
  }
  return { status: res.status, data };
}

function fail(res) {
  console.error(`error ${res.status}: ${res.data.message ?? JSON.stringify(res.data)}`);
  process.exit(1);
}

function show(data) {
  if (asJson) return console.log(JSON.stringify(data, null, 2));
  if (data.tenants) {
    for (const t of data.tenants) console.log(`${t.slug.padEnd(20)} ${t.status.padEnd(10)} ${t.issuer}  ${t.display_name}`);
    if (data.tenants.length === 0) console.log('(no tenants)');
    return;
  }
  for (const [k, v] of Object.entries(data)) console.log(`${k.padEnd(18)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
}

async function run() {
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return;
  }
  if (!secret) {
    console.error('no operator secret: pass --secret, set OPERATOR_SECRET, or run scripts/dev.sh first');
    process.exit(2);
  }
  const [slug, arg2] = rest;
  const need = (v, what) => {
    if (!v) {
      console.error(`missing ${what}\n\n${USAGE}`);
      process.exit(2);
    }
    return v;
  };
  let res;
  switch (command) {
    case 'list':
      res = await call('GET', '/tenants');
      break;
    case 'create':
      res = await call('POST', '/tenants', { slug: need(slug, 'slug'), display_name: need(rest.slice(1).join(' '), 'display name') });
      break;
    case 'ensure-demo': {
      const existing = await call('GET', `/tenants/${need(slug, 'slug')}`);
      if (existing.status === 200) {
        const link = await call('POST', `/tenants/${slug}/setup-link`);
        const setup = link.status === 201 ? `\n    First-admin setup: ${link.data.setup_url}` : '';
        console.log(`  Tenant ${slug} exists: ${existing.data.issuer}${setup}`);
        return;
      }
      res = await call('POST', '/tenants', { slug, display_name: rest.slice(1).join(' ') || slug });
      if (res.status !== 201) fail(res);
      console.log(`  Created tenant ${slug}: ${res.data.issuer}\n    First-admin setup: ${res.data.setup_url}`);
      return;
    }
    case 'get':
      res = await call('GET', `/tenants/${need(slug, 'slug')}`);
      break;
    case 'suspend':
    case 'resume':
      res = await call('POST', `/tenants/${need(slug, 'slug')}/${command}`);
      break;
    case 'delete':
      if (!yes) {
        console.error(`deleting ${slug} removes its users, passkeys, clients and keys for good: add --yes`);
        process.exit(2);
      }
      res = await call('DELETE', `/tenants/${need(slug, 'slug')}`);
      break;
    case 'setup-link':
      res = await call('POST', `/tenants/${need(slug, 'slug')}/setup-link`);
      break;
    case 'add-domain':
      res = await call('POST', `/tenants/${need(slug, 'slug')}/domains`, { host: need(arg2, 'host') });
      break;
    case 'remove-domain':
      res = await call('DELETE', `/tenants/${need(slug, 'slug')}/domains/${need(arg2, 'host')}`);
      break;
    case 'rotate-keys':
      res = await call('POST', `/tenants/${need(slug, 'slug')}/keys/rotate`, {
        alg: arg2,
        overlap_days: overlapDays,
        immediate: immediate || undefined,
      });
      break;
    case 'key-self-test':
      res = await call('POST', `/tenants/${need(slug, 'slug')}/keys/self-test`);
      break;
    case 'add-client':
      res = await call('POST', `/tenants/${need(slug, 'slug')}/clients`, {
        name: need(arg2, 'name'),
        callback_urls: [need(rest[2], 'callback-url')],
        claims_in_id_token: accessPreset,
        pkce_enabled: accessPreset,
        is_public: publicClient,
        preset: accessPreset ? 'cloudflare-access' : undefined,
      });
      break;
    case 'api-key':
      res = await call('POST', `/tenants/${need(slug, 'slug')}/api-keys`, {
        name: arg2,
        expires_in_days: days,
      });
      break;
    default:
      console.error(`unknown command ${command}\n\n${USAGE}`);
      process.exit(2);
  }
  if (res.status >= 300) fail(res);
  show(res.data);
}

run().catch((e) => {
  console.error(`cannot reach ${url}: ${e.cause?.code ?? e.message}`);
  process.exit(1);
});
