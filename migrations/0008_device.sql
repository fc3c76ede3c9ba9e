-- Device authorization grant (RFC 8628): one row per device authorization, and the wrong
-- user codes a signed-in person entered (the brute-force limit of the /device page).

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
