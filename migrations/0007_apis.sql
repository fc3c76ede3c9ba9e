-- APIs (resource servers, RFC 8707) a tenant registers, the permissions clients hold at them,
-- and per-client token settings (issue 15, parts 1 and 2).
--
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

-- The API (resource) a user's grant was authorized for at /authorize: its access tokens are
-- JWTs for that API, at the code redemption and at every refresh.
ALTER TABLE grants ADD COLUMN resource TEXT;

-- 'jwt': every access token this client receives is an RFC 9068 JWT (apps migrating from
-- Pocket ID); 'opaque' (the default): userinfo tokens stay opaque and revocable at once.
ALTER TABLE oidc_clients ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'opaque' CHECK (access_token_format IN ('opaque', 'jwt'));
-- Token lifetimes in seconds; NULL means the provider's default.
ALTER TABLE oidc_clients ADD COLUMN access_token_ttl INTEGER;
ALTER TABLE oidc_clients ADD COLUMN id_token_ttl INTEGER;
ALTER TABLE oidc_clients ADD COLUMN refresh_token_ttl INTEGER;
