-- Email sign-in codes (issue 16): one row per code a person asked for on /login/email. The
-- browser carries the row's id sealed (bound to it and the tenant); the row holds the code's
-- hash, the wrong attempts so far and, once used, the session it started. A row is written
-- for unknown addresses too (user_id NULL), so both answer alike, attempts included.
-- SMTP settings live in tenants.settings (JSON, password sealed): no column needed.
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
