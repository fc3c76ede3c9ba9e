-- Sign-in notices (issue 16 part 2c): a person may ask to be mailed when their account signs
-- in from a browser it has not signed in from before. A browser is its `eid_browser` cookie (a
-- long-lived random id, not a fingerprint); only a hash of it is stored, and only for people
-- who turned the notices on.
ALTER TABLE users ADD COLUMN sign_in_notices INTEGER NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS known_browsers (
  tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  browser_hash   TEXT NOT NULL,
  first_seen_at  INTEGER NOT NULL,
  last_seen_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id, browser_hash)
);
-- The hourly cleanup drops browsers whose cookie has surely expired (it lives a year from
-- when it was minted, which is before the browser was first seen).
CREATE INDEX IF NOT EXISTS known_browsers_first_seen ON known_browsers(first_seen_at);
