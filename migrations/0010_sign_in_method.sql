-- How a session was started (RFC 8176 `amr` values, JSON), copied to the codes issued in it and
-- to their grants, so id_tokens say how the person signed in. Rows from before stay NULL: their
-- id_tokens carry no `amr`. (0007-0009 are taken by features developed alongside.)
ALTER TABLE sessions ADD COLUMN amr TEXT;
ALTER TABLE authorization_codes ADD COLUMN amr TEXT;
ALTER TABLE grants ADD COLUMN amr TEXT;
