// The reference: panva's oidc-provider (OpenID Certified), configured like Edge ID for the
// benchmark: RS256 id_tokens, one confidential client (client_secret_basic, PKCE S256),
// in-memory storage, refresh tokens rotating on use. `/bench/mint` creates a grant and an
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

export const CLIENT = {
  client_id: 'bench-client',
  client_secret: 'benchSecret0123456789abcdefghijklmnopqrstuvwxyz',
  redirect_uris: ['https://app.example.com/cb'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
};

const provider = new Provider(issuer, {
  adapter: RoomyMemoryAdapter,
  clients: [CLIENT],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
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
  const client = await provider.Client.find(CLIENT.client_id);
  const grant = new provider.Grant({ accountId: 'user-1', clientId: CLIENT.client_id });
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
