-- Recovery codes (a tenant option, off by default): single-use codes a person keeps to sign in
-- once when every passkey is gone. Only a salted hash is stored (account::recovery_codes).
-- A use marks the row with the session it started, in the batch that creates that session, so
-- of two concurrent uses of one code exactly one signs in.
CREATE TABLE IF NOT EXISTS recovery_codes (
  code_hash       TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at      INTEGER NOT NULL,
  used_at         INTEGER,
  used_by_session TEXT
);
CREATE INDEX IF NOT EXISTS recovery_codes_user ON recovery_codes(tenant_id, user_id);
