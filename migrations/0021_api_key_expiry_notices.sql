-- "An admin API key expires soon" notices (issue 16 part 2e), sent by the hourly cleanup cron.
-- issuer: the tenant URL the key was minted on (a request host; links in its notice go there,
-- where its admin signs in). expiry_notice_sent_at: when a notice went out (a key gets one).
-- expiry_notice_attempts: hourly runs that tried and failed; capped, so a broken mail server
-- never turns into an hourly mail.
ALTER TABLE api_keys ADD COLUMN issuer TEXT;
ALTER TABLE api_keys ADD COLUMN expiry_notice_sent_at INTEGER;
ALTER TABLE api_keys ADD COLUMN expiry_notice_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS api_keys_expiry ON api_keys(expires_at) WHERE expiry_notice_sent_at IS NULL;
