-- Invitations like Pocket ID's signup tokens: an id to list and revoke them by, a number of
-- uses (1-100) and how many were made; the email to prefill and the groups given on sign-up
-- ride in `details` (JSON). A link counts as used up (`used_at`) once its last use is made.
ALTER TABLE one_time_tokens ADD COLUMN id TEXT;
ALTER TABLE one_time_tokens ADD COLUMN max_uses INTEGER NOT NULL DEFAULT 1;
ALTER TABLE one_time_tokens ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX IF NOT EXISTS one_time_tokens_id ON one_time_tokens(id);
