-- Pushed authorization requests (RFC 9126): a client may be registered to send its
-- authorization requests only by pushing them first (`require_pushed_authorization_requests`).
-- The pushed requests themselves are not stored: their request_uri is sealed (crypto::sealed)
-- and spent in spent_tokens, which exists already.
ALTER TABLE oidc_clients ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;
