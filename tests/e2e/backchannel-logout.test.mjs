// Issue 15 part 6: OpenID Connect Back-Channel Logout 1.0 through the LOGOUTS Cloudflare Queue
// (a local queue under wrangler dev). Relying parties are tiny HTTP servers on 127.0.0.1 that
// record what they are POSTed; logout tokens are verified with jose against the tenant's JWKS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createLocalJWKSet, jwtVerify, decodeJwt } from 'jose';
import { createTenant, tfetch } from './lib/env.mjs';
import { tenantWithAdmin, adminApi } from './lib/person.mjs';
import { createClient, login, sleep } from './lib/oidc.mjs';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let T; // { tenant, base, admin, apiKey }
const servers = [];

before(async () => {
  T = await tenantWithAdmin(createTenant, 'bcl');
});

after(() => {
  T.admin.cleanup();
  for (const s of servers) s.close();
});

/** A relying party's back-channel logout endpoint that answers 500 to its first `failures` POSTs. */
async function relyingParty(failures = 0) {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const status = received.length < failures ? 500 : 200;
      received.push({ method: req.method, type: req.headers['content-type'], body, status });
      res.writeHead(status, { 'cache-control': 'no-store' }).end();
    });
  });
  servers.push(server);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, uri: `http://127.0.0.1:${server.address().port}/backchannel-logout` };
}

async function until(what, predicate, ms = 60_000, explain = async () => '') {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await predicate()) return;
    await sleep(200);
  }
  assert.fail(`timed out waiting for ${what} ${await explain()}`);
}

/** The logout token of a recorded POST, verified as OIDC Back-Channel Logout §2.6 asks. */
async function verifyLogoutToken(post, audience) {
  assert.equal(post.method, 'POST');
  assert.equal(post.type, 'application/x-www-form-urlencoded');
  const form = new URLSearchParams(post.body);
  assert.deepEqual([...form.keys()], ['logout_token']);
  const jwks = await (await tfetch(`${T.base}/.well-known/jwks.json`)).json();
  const { payload, protectedHeader } = await jwtVerify(form.get('logout_token'), createLocalJWKSet(jwks), {
    issuer: T.base,
    audience,
    typ: 'logout+jwt',
    maxTokenAge: '2 minutes',
    requiredClaims: ['iat', 'exp', 'jti', 'events'],
  });
  assert.equal(protectedHeader.typ, 'logout+jwt');
  assert.deepEqual(payload.events, { [EVENT]: {} });
  assert.equal(payload.nonce, undefined, 'a logout token never carries a nonce');
  assert.ok(payload.exp - payload.iat <= 120);
  return payload;
}

async function auditOf(clientId) {
  const res = await adminApi(T.base, T.apiKey, 'GET', `/api/audit-logs?client_id=${clientId}&limit=50`);
  assert.equal(res.status, 200, res.text);
  return res.json.data.filter((e) => e.event.startsWith('backchannel_logout.')).reverse();
}

test('clients register a back-channel logout URI: https, or http on loopback only', async () => {
  const bad = await adminApi(T.base, T.apiKey, 'POST', '/api/oidc/clients', {
    name: 'Plain http', callback_urls: ['https://app.example.com/cb'],
    backchannel_logout_uri: 'http://app.example.com/bc',
  });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.text, /backchannel_logout_uri/);
  const ok = await createClient(T.base, T.apiKey, {
    name: 'Registers', backchannel_logout_uri: 'https://app.example.com/bc', backchannel_logout_session_required: true,
  });
  assert.equal(ok.backchannel_logout_uri, 'https://app.example.com/bc');
  assert.equal(ok.backchannel_logout_session_required, true);
  const discovery = await (await tfetch(`${T.base}/.well-known/openid-configuration`)).json();
  assert.equal(discovery.backchannel_logout_supported, true);
  assert.equal(discovery.backchannel_logout_session_supported, true);
});

test('end-session at one app sends both apps a signed logout token; a failed delivery is retried', async () => {
  const [wiki, chat, idle] = await Promise.all([relyingParty(), relyingParty(1), relyingParty()]);
  const wikiApp = await createClient(T.base, T.apiKey, { name: 'Wiki', backchannel_logout_uri: wiki.uri });
  const chatApp = await createClient(T.base, T.apiKey, {
    name: 'Chat', backchannel_logout_uri: chat.uri, backchannel_logout_session_required: true,
  });
  // Registered, but nobody signed in to it: it hears nothing.
  await createClient(T.base, T.apiKey, { name: 'Idle', backchannel_logout_uri: idle.uri });

  const browser = T.admin.anotherBrowser();
  await browser.signIn();
  const atWiki = await login(T.base, browser, wikiApp);
  const atChat = await login(T.base, browser, chatApp);
  const sid = decodeJwt(atWiki.tokens.id_token).sid;
  assert.ok(sid, 'id_tokens carry the session id');
  assert.equal(decodeJwt(atChat.tokens.id_token).sid, sid, 'one session, one sid');

  // RP-initiated logout at the wiki only.
  const q = new URLSearchParams({ id_token_hint: atWiki.tokens.id_token });
  const res = await browser.fetch(`/api/oidc/end-session?${q}`);
  assert.equal(res.status, 200);

  await until('the wiki to hear of the logout', () => wiki.received.length >= 1);
  await until('the chat app to get its token after a retry', () => chat.received.length >= 2, 60_000,
    async () => JSON.stringify({ received: chat.received.map((p) => p.status), audit: await auditOf(chatApp.id) }));
  const sub = decodeJwt(atWiki.tokens.id_token).sub;
  for (const [rp, app] of [[wiki, wikiApp], [chat, chatApp]]) {
    const token = await verifyLogoutToken(rp.received.at(-1), app.id);
    assert.equal(token.sid, sid, 'the sid of the id_tokens issued in the session');
    assert.equal(token.sub, sub);
  }
  const [first, retried] = await Promise.all(chat.received.map((p) => verifyLogoutToken(p, chatApp.id)));
  assert.notEqual(first.jti, retried.jti, 'each attempt signs a fresh token');
  assert.deepEqual(chat.received.map((p) => p.status), [500, 200]);

  await until('the audit log to record the retry', async () => (await auditOf(chatApp.id)).length >= 2);
  const chatAudit = await auditOf(chatApp.id);
  assert.deepEqual(
    chatAudit.map((e) => [e.event, e.details.attempt, e.details.status]),
    [['backchannel_logout.failed', 1, 500], ['backchannel_logout.delivered', 2, 200]],
  );
  assert.deepEqual((await auditOf(wikiApp.id)).map((e) => e.event), ['backchannel_logout.delivered']);

  // The session is over, and the tokens issued in it with it.
  const info = await tfetch(`${T.base}/api/oidc/userinfo`, {
    headers: { authorization: `Bearer ${atChat.tokens.access_token}` },
  });
  assert.equal(info.status, 401);
  await sleep(1500);
  assert.equal(idle.received.length, 0, 'a client without a grant of the session hears nothing');
  assert.equal(wiki.received.length, 1, 'delivered once');
});

test('signing a user out everywhere from the admin API sends logout tokens too', async () => {
  const rp = await relyingParty();
  const app = await createClient(T.base, T.apiKey, { name: 'Dashboard', backchannel_logout_uri: rp.uri });
  const browser = T.admin.anotherBrowser();
  await browser.signIn();
  const { tokens } = await login(T.base, browser, app);
  const { sub, sid } = decodeJwt(tokens.id_token);
  const res = await adminApi(T.base, T.apiKey, 'DELETE', `/api/users/${sub}/sessions`);
  assert.equal(res.status, 204, res.text);
  await until('the dashboard to hear of the sign-out', () => rp.received.length >= 1);
  const token = await verifyLogoutToken(rp.received[0], app.id);
  assert.equal(token.sub, sub);
  assert.equal(token.sid, sid);
});
