-- Authorization requests parked while the user signs in or consents. The browser carries only
-- the random interaction id; the validated request stays server-side so it cannot be altered
-- between /authorize and the code being issued.
CREATE TABLE IF NOT EXISTS interactions (
  id_hash     TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  request     TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
