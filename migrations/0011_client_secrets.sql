-- Several secrets per client, each with an optional expiry, so a secret can be rotated without
-- downtime: add a new one, move the app over, let the old one expire (or delete it). A
-- confidential client authenticates with ANY of its unexpired secrets. The single
-- oidc_clients.secret_hash moves here and is dropped, so there is one place a secret lives.
CREATE TABLE IF NOT EXISTS client_secrets (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id    TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
  secret_hash  TEXT NOT NULL,            -- SHA-256 of the secret (shown once at creation)
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER                   -- NULL: never; refused from this second on
);
CREATE INDEX IF NOT EXISTS client_secrets_client ON client_secrets(client_id);

INSERT INTO client_secrets (id, tenant_id, client_id, secret_hash, created_at, expires_at)
  SELECT lower(hex(randomblob(16))), tenant_id, id, secret_hash, updated_at, NULL
  FROM oidc_clients WHERE secret_hash IS NOT NULL;

ALTER TABLE oidc_clients DROP COLUMN secret_hash;
