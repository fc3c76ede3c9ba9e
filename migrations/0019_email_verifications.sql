-- Email verification links (issue 16 part 2d). A table of their own: D1 cannot ALTER the
-- CHECK on one_time_tokens.purpose. A link is bound to the user AND the address it was sent
-- to; only its hash is stored; it is spent once (used_at).
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
