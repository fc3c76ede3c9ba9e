-- Key rotation publishes the new key before it signs (src/tenancy/keys.rs): a key is 'next'
-- (in the JWKS, not signing) until every cached JWKS holds it, then 'current', then 'retired'.
-- A 'next' key records how long the key it replaces stays published once it signs
-- (overlap_secs). SQLite cannot change a CHECK constraint in place, so the table is rebuilt;
-- no other table references signing_keys.
CREATE TABLE signing_keys_new (
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
INSERT INTO signing_keys_new (kid, tenant_id, alg, public_jwk, sealed_private_key, status, created_at, expires_at)
  SELECT kid, tenant_id, alg, public_jwk, sealed_private_key, status, created_at, expires_at FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_new RENAME TO signing_keys;
CREATE INDEX IF NOT EXISTS signing_keys_tenant ON signing_keys(tenant_id);
