-- Edge ID D1 schema. This file is the whole current schema; migrations/ holds the same as
-- numbered steps for `wrangler d1 migrations apply` (fresh databases and upgrades alike).
-- Times are unix seconds. Secrets (codes, tokens, session ids, keys) are stored as SHA-256
-- hashes (base64url), never in clear. Every tenant-owned row carries tenant_id and every query
-- filters by it: the host picks the tenant, nothing else.

PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS tenants (
  id            TEXT PRIMARY KEY,
  slug          TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  settings      TEXT NOT NULL DEFAULT '{}',
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

-- Custom domains mapped to a tenant (Cloudflare for SaaS custom hostnames).
CREATE TABLE IF NOT EXISTS tenant_domains (
  host        TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tenant_domains_tenant ON tenant_domains(tenant_id);

-- Key lifecycle (src/tenancy/keys.rs): 'next' (published, not signing) -> 'current' (signs)
-- -> 'retired' (published until expires_at) -> deleted. overlap_secs: for a 'next' key, how
-- long the key it replaces stays published once it signs.
CREATE TABLE IF NOT EXISTS signing_keys (
  kid                 TEXT PRIMARY KEY,
  tenant_id           TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  alg                 TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),
  public_jwk          TEXT NOT NULL,
  sealed_private_key  TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('next', 'current', 'retired')),
  created_at          INTEGER NOT NULL,
  expires_at          INTEGER,
  overlap_secs        INTEGER
);
CREATE INDEX IF NOT EXISTS signing_keys_tenant ON signing_keys(tenant_id);

CREATE TABLE IF NOT EXISTS users (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  username        TEXT NOT NULL,
  email           TEXT,
  email_verified  INTEGER NOT NULL DEFAULT 0,
  first_name      TEXT,
  last_name       TEXT,
  display_name    TEXT,
  picture         TEXT,
  locale          TEXT,
  is_admin        INTEGER NOT NULL DEFAULT 0,
  disabled        INTEGER NOT NULL DEFAULT 0,
  custom_claims   TEXT NOT NULL DEFAULT '{}',
  -- Mail the person when they sign in from a browser new to them (0020).
  sign_in_notices INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (tenant_id, username)
);
CREATE UNIQUE INDEX IF NOT EXISTS users_tenant_email ON users(tenant_id, email) WHERE email IS NOT NULL;

CREATE TABLE IF NOT EXISTS passkeys (
  credential_id   TEXT NOT NULL,            -- base64url
  tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name            TEXT NOT NULL,
  public_key      TEXT NOT NULL,            -- COSE_Key, base64url
  algorithm       INTEGER NOT NULL,
  sign_count      INTEGER NOT NULL DEFAULT 0,
  backup_eligible INTEGER NOT NULL DEFAULT 0,
  backup_state    INTEGER NOT NULL DEFAULT 0,
  transports      TEXT NOT NULL DEFAULT '[]',
  aaguid          TEXT,
  created_at      INTEGER NOT NULL,
  last_used_at    INTEGER,
  PRIMARY KEY (tenant_id, credential_id)
);
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys(user_id);

-- Sealed browser-carried state that was used (a passkey challenge, a parked authorization
-- request; src/crypto/sealed.rs): recorded in the batch that acts on it so each works once,
-- kept until it would have expired anyway (migration 0006).
CREATE TABLE IF NOT EXISTS spent_tokens (
  id          TEXT PRIMARY KEY,              -- the random id inside the sealed value
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  expires_at  INTEGER NOT NULL               -- the sealed value's expiry: kept until then
);

-- One-time links: first-admin setup, invites, admin-issued login codes.
CREATE TABLE IF NOT EXISTS one_time_tokens (
  token_hash  TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  purpose     TEXT NOT NULL CHECK (purpose IN ('first_admin', 'invite', 'login')),
  user_id     TEXT REFERENCES users(id) ON DELETE CASCADE,
  details     TEXT NOT NULL DEFAULT '{}',
  created_by  TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,                      -- set when the last use is made (or a login link's one)
  id          TEXT,                         -- to list and revoke invitations by (0017)
  max_uses    INTEGER NOT NULL DEFAULT 1,   -- invitations: 1-100 accounts (0017)
  uses        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS one_time_tokens_tenant ON one_time_tokens(tenant_id, purpose);
CREATE UNIQUE INDEX IF NOT EXISTS one_time_tokens_id ON one_time_tokens(id);

CREATE TABLE IF NOT EXISTS sessions (
  id_hash       TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  auth_time     INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  ip            TEXT,
  user_agent    TEXT,
  amr           TEXT                        -- how it was started: RFC 8176 values, JSON (0010)
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);

-- Recovery codes (0014): single-use, salted hashes only; a use names the session it started.
CREATE TABLE IF NOT EXISTS recovery_codes (
  code_hash       TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at      INTEGER NOT NULL,
  used_at         INTEGER,
  used_by_session TEXT
);
CREATE INDEX IF NOT EXISTS recovery_codes_user ON recovery_codes(tenant_id, user_id);

-- Sign in with another device (0016): hashes of the waiting page's request id and of the user
-- code; the waiting browser bound by its cookie's hash; used once, naming the session it started.
CREATE TABLE IF NOT EXISTS other_device_sign_ins (
  request_hash    TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_code_hash  TEXT NOT NULL,
  browser_hash    TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'approved', 'denied', 'used')),
  user_id         TEXT REFERENCES users(id) ON DELETE CASCADE,
  ip              TEXT,
  user_agent      TEXT,
  country         TEXT,
  city            TEXT,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  used_by_session TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS other_device_sign_ins_user_code
  ON other_device_sign_ins(tenant_id, user_code_hash);

CREATE TABLE IF NOT EXISTS user_groups (
  id             TEXT PRIMARY KEY,
  tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  friendly_name  TEXT NOT NULL,
  custom_claims  TEXT NOT NULL DEFAULT '{}',
  created_at     INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
);

CREATE TABLE IF NOT EXISTS user_group_members (
  group_id  TEXT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
  user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS user_group_members_user ON user_group_members(user_id);

CREATE TABLE IF NOT EXISTS oidc_clients (
  id                          TEXT PRIMARY KEY,      -- the client_id
  tenant_id                   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name                        TEXT NOT NULL,
  is_public                   INTEGER NOT NULL DEFAULT 0,
  pkce_required               INTEGER NOT NULL DEFAULT 0,
  allow_plain_pkce            INTEGER NOT NULL DEFAULT 0,
  redirect_uris               TEXT NOT NULL DEFAULT '[]',
  post_logout_redirect_uris   TEXT NOT NULL DEFAULT '[]',
  claims_in_id_token          INTEGER NOT NULL DEFAULT 0,
  id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256' CHECK (id_token_signed_response_alg IN ('RS256', 'ES256')),
  require_consent             INTEGER NOT NULL DEFAULT 0,
  require_par                 INTEGER NOT NULL DEFAULT 0,  -- only pushed requests (RFC 9126) at /authorize (0009)
  -- RFC 7591's token_endpoint_auth_method (0015): a secret (either secret method is accepted),
  -- a JWT signed with one of the client's keys (private_key_jwt, RFC 7523), or none (public).
  token_endpoint_auth_method  TEXT NOT NULL DEFAULT 'client_secret_basic'
    CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
  jwks                        TEXT,                  -- private_key_jwt keys, inline (JSON JWKS)
  jwks_uri                    TEXT,                  -- ... or where to fetch them (https)
  -- External issuers whose JWTs (for a subject) the client accepts as its assertion (0015):
  -- JSON [{issuer, subject, audience}].
  federated_credentials       TEXT NOT NULL DEFAULT '[]',
  -- OIDC Back-Channel Logout: where logout tokens are POSTed, and whether they must carry `sid` (0012).
  backchannel_logout_uri      TEXT,
  backchannel_logout_session_required INTEGER NOT NULL DEFAULT 0,
  launch_url                  TEXT,
  logo_url                    TEXT,
  preset                      TEXT,
  -- 'jwt': every access token is an RFC 9068 JWT (apps migrating from Pocket ID); 'opaque':
  -- userinfo tokens stay opaque and revocable at once (0007).
  access_token_format         TEXT NOT NULL DEFAULT 'opaque' CHECK (access_token_format IN ('opaque', 'jwt')),
  -- Token lifetimes in seconds; NULL means the provider's default (0007).
  access_token_ttl            INTEGER,
  id_token_ttl                INTEGER,
  refresh_token_ttl           INTEGER,
  created_at                  INTEGER NOT NULL,
  updated_at                  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS oidc_clients_tenant ON oidc_clients(tenant_id);

-- A confidential client's secrets (0011): it authenticates with ANY unexpired one, so a secret
-- is rotated without downtime (add a new one, move the app over, let the old one expire or
-- delete it). Public clients have none. Secrets are shown once and stored as SHA-256 hashes.
CREATE TABLE IF NOT EXISTS client_secrets (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id    TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
  secret_hash  TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER                   -- NULL: never; refused from this second on
);
CREATE INDEX IF NOT EXISTS client_secrets_client ON client_secrets(client_id);

-- APIs (resource servers, RFC 8707) and the permissions clients hold at them (0007).
-- An API's identifier is the audience of the JWT access tokens issued for it (RFC 9068) and
-- the value clients send as `resource`. Its permissions are the scopes it understands, stored
-- as a JSON array of {"value", "description"}. A client's grant at an API is the subset of
-- those it may ask for (JSON array of values); an API permission removed later is dropped at
-- issue time, so a grant never outlives what the API defines.
CREATE TABLE IF NOT EXISTS apis (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  identifier   TEXT NOT NULL,                 -- the audience: an absolute https URI
  name         TEXT NOT NULL,
  permissions  TEXT NOT NULL DEFAULT '[]',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (tenant_id, identifier)
);

CREATE TABLE IF NOT EXISTS client_api_permissions (
  client_id    TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
  api_id       TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
  tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  permissions  TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (client_id, api_id)
);
CREATE INDEX IF NOT EXISTS client_api_permissions_api ON client_api_permissions(api_id);

-- Groups allowed to use a client; a client with no rows here is open to every user.
CREATE TABLE IF NOT EXISTS oidc_client_groups (
  client_id  TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
  group_id   TEXT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
  PRIMARY KEY (client_id, group_id)
);

CREATE TABLE IF NOT EXISTS consents (
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  client_id   TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
  scope       TEXT NOT NULL,
  granted_at  INTEGER NOT NULL,
  PRIMARY KEY (user_id, client_id)
);

-- Authorization codes: single use. Redemption is one atomic UPDATE ... WHERE redeemed_at IS NULL
-- RETURNING, so of N concurrent redemptions exactly one wins; the grant it created is recorded
-- so a replay can revoke it (RFC 6749 §4.1.2).
CREATE TABLE IF NOT EXISTS authorization_codes (
  code_hash              TEXT PRIMARY KEY,
  tenant_id              TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id              TEXT NOT NULL,
  user_id                TEXT NOT NULL,
  session_id             TEXT,
  request                TEXT NOT NULL,          -- the validated authorization request (JSON)
  auth_time              INTEGER NOT NULL,
  expires_at             INTEGER NOT NULL,
  redeemed_at            INTEGER,
  grant_id               TEXT,
  amr                    TEXT              -- the session's sign-in method (0010)
);

-- A grant is the family of tokens issued from one authorization code.
CREATE TABLE IF NOT EXISTS grants (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id   TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  scope       TEXT NOT NULL,
  auth_time   INTEGER NOT NULL,
  session_id  TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER,
  amr         TEXT,                         -- the sign-in method of its code's session (0010)
  resource    TEXT                          -- the API the grant's access tokens are for (0007)
);
CREATE INDEX IF NOT EXISTS grants_user ON grants(user_id);

CREATE TABLE IF NOT EXISTS access_tokens (
  token_hash  TEXT PRIMARY KEY,
  grant_id    TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
  tenant_id   TEXT NOT NULL,
  client_id   TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  scope       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_tokens_grant ON access_tokens(grant_id);

-- Refresh tokens rotate on every use; presenting a used one revokes its whole grant.
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token_hash  TEXT PRIMARY KEY,
  grant_id    TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
  tenant_id   TEXT NOT NULL,
  client_id   TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  scope       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  replaced_by TEXT                          -- hash of the token that replaced it (0003)
);
CREATE INDEX IF NOT EXISTS refresh_tokens_grant ON refresh_tokens(grant_id);

-- Device authorization grant (RFC 8628) and the /device page's wrong-code counter (0008).
CREATE TABLE IF NOT EXISTS device_authorizations (
  device_code_hash TEXT PRIMARY KEY,          -- SHA-256 of the device_code the client polls with
  tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id        TEXT NOT NULL,
  user_code_hash   TEXT NOT NULL,             -- SHA-256 of the normalised user code
  scope            TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
  interval_secs    INTEGER NOT NULL,          -- grows by 5 s on each slow_down
  last_polled_at   INTEGER,
  user_id          TEXT,                      -- who approved or denied
  auth_time        INTEGER,
  grant_id         TEXT,                      -- the grant the one redeeming poll created
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS device_authorizations_user_code
  ON device_authorizations(tenant_id, user_code_hash);

CREATE TABLE IF NOT EXISTS device_code_failures (
  tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  failures       INTEGER NOT NULL,
  window_ends_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE IF NOT EXISTS api_keys (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  key_hash      TEXT NOT NULL UNIQUE,
  created_by    TEXT,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER,
  last_used_at  INTEGER,
  issuer        TEXT,                       -- the tenant URL it was minted on (0021)
  -- Its "expires soon" notice (0021): when sent, and failed hourly attempts (capped).
  expiry_notice_sent_at   INTEGER,
  expiry_notice_attempts  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys(tenant_id);
CREATE INDEX IF NOT EXISTS api_keys_expiry ON api_keys(expires_at) WHERE expiry_notice_sent_at IS NULL;

CREATE TABLE IF NOT EXISTS audit_logs (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  event       TEXT NOT NULL,
  user_id     TEXT,
  client_id   TEXT,
  ip          TEXT,
  user_agent  TEXT,
  country     TEXT,
  city        TEXT,
  asn         INTEGER,
  details     TEXT NOT NULL DEFAULT '{}',
  created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_time ON audit_logs(tenant_id, created_at);

-- Email sign-in codes (0013): the browser carries the id sealed; the row holds the code's hash,
-- the attempts and, once used, the hash of the session it started. user_id is NULL for an
-- address no account has (so unknown addresses answer exactly like known ones).
CREATE TABLE IF NOT EXISTS email_sign_in_codes (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id      TEXT REFERENCES users(id) ON DELETE CASCADE,
  code_hash    TEXT NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  consumed_by  TEXT,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS email_sign_in_codes_expiry ON email_sign_in_codes(expires_at);

-- Email verification links (0019): bound to the user and the address; hashed; single use.
CREATE TABLE IF NOT EXISTS email_verifications (
  token_hash  TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  email       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
);
CREATE INDEX IF NOT EXISTS email_verifications_expiry ON email_verifications(expires_at);

-- Browsers a person with sign-in notices has signed in from (0020): the hash of the
-- `eid_browser` cookie; cleaned up a year after first seen (the cookie has expired by then).
CREATE TABLE IF NOT EXISTS known_browsers (
  tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  browser_hash   TEXT NOT NULL,
  first_seen_at  INTEGER NOT NULL,
  last_seen_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id, browser_hash)
);
CREATE INDEX IF NOT EXISTS known_browsers_first_seen ON known_browsers(first_seen_at);
