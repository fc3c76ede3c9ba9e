-- Passkey challenges and parked authorization requests are no longer stored: the browser
-- carries them sealed with a subkey of the master key (src/crypto/sealed.rs), which saves a
-- write and a read on the D1 primary per sign-in. What stays on the primary is the record that
-- one was used, so each works once: `spent_tokens`, written in the same batch that acts on it.
-- Challenges and requests in flight during the upgrade are lost; each lived 5-15 minutes, and
-- the person just starts again.
DROP TABLE IF EXISTS webauthn_challenges;
DROP TABLE IF EXISTS interactions;

CREATE TABLE IF NOT EXISTS spent_tokens (
  id          TEXT PRIMARY KEY,              -- the random id inside the sealed value
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  expires_at  INTEGER NOT NULL               -- the sealed value's expiry: kept until then
);
