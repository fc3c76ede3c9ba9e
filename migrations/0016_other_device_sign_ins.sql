-- Sign in with another device: a browser without a passkey shows a QR code and a user code; a
-- device where the person is signed in approves it, and the waiting browser gets a session.
-- Only hashes of the request id (held by the waiting page) and of the user code are stored;
-- the waiting browser is bound by the hash of its browser cookie. A use marks the row with the
-- session it started, in the batch that creates the session, so a request signs in once.
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
