// The reference: panva's oidc-provider (OpenID Certified), configured like Edge ID for the
// benchmark: RS256 and ES256 id_tokens (one confidential client each, client_secret_basic, PKCE
// S256), in-memory storage, refresh tokens rotating on use, userinfo and introspection on, and its
// development login/consent pages (devInteractions) so a whole browser login can be walked.
// `/bench/cpu` answers this process's process.cpuUsage() and `/bench/hello` a bare 'ok' from the
// same HTTP server (the floor: Node's HTTP stack without the provider). `/bench/mint` creates a grant and an
// authorization code directly through the provider's models (outside the timed section), the
// way Edge ID's codes are minted through /authorize before its token run.
//
//   node bench/reference-op.mjs <port>
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

// The default in-memory store is an LRU of 1000 entries: the benchmark holds more live codes and
// grants than that, so the same in-memory adapter gets a roomier store (else codes get evicted).
const store = new LRU({ maxSize: 1_000_000 });
class RoomyMemoryAdapter extends MemoryAdapter {
  constructor(model) {
    super(model, store);
  }
}

const port = Number(process.argv[2] ?? 9100);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };
const { privateKey: ecKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecJwk = { ...ecKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

export const CLIENT = {
  client_id: 'bench-client',
  client_secret: 'benchSecret0123456789abcdefghijklmnopqrstuvwxyz',
  redirect_uris: ['https://app.example.com/cb'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
};
export const CLIENT_ES256 = { ...CLIENT, client_id: 'bench-client-es256', id_token_signed_response_alg: 'ES256' };

const provider = new Provider(issuer, {
  adapter: RoomyMemoryAdapter,
  clients: [CLIENT, CLIENT_ES256],
  jwks: { keys: [jwk, ecJwk] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, userinfo: { enabled: true }, introspection: { enabled: true } },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: { email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', 'preferred_username'] },
  issueRefreshToken: async () => true,
  rotateRefreshToken: true,
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace', preferred_username: 'ada' };
      },
    };
  },
});
provider.proxy = false;
const callback = provider.callback();

async function mint(url) {
  const challenge = url.searchParams.get('code_challenge');
  const clientId = url.searchParams.get('client_id') ?? CLIENT.client_id;
  const client = await provider.Client.find(clientId);
  const grant = new provider.Grant({ accountId: 'user-1', clientId });
  grant.addOIDCScope('openid email profile offline_access');
  const grantId = await grant.save();
  const code = new provider.AuthorizationCode({
    accountId: 'user-1',
    grantId,
    client,
    redirectUri: CLIENT.redirect_uris[0],
    scope: 'openid email profile offline_access',
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    nonce: randomBytes(8).toString('hex'),
    authTime: Math.floor(Date.now() / 1000),
  });
  return code.save();
}

http
  .createServer(async (req, res) => {
    if (req.url === '/bench/hello') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (req.url === '/bench/cpu') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(process.cpuUsage()));
      return;
    }
    if (req.url.startsWith('/bench/mint')) {
      try {
        const code = await mint(new URL(req.url, issuer));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code }));
      } catch (e) {
        res.writeHead(500).end(String(e.stack));
      }
      return;
    }
    callback(req, res);
  })
  .listen(port, '127.0.0.1', () => console.log(`reference OP on ${issuer}`));
