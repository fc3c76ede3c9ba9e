-- Refresh token rotation: the used token records which token replaced it, so the statements
-- that mint the replacement in the same D1 batch can select exactly the row this request
-- rotated (and nothing a concurrent request rotated).
ALTER TABLE refresh_tokens ADD COLUMN replaced_by TEXT;
