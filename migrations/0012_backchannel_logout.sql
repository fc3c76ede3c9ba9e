-- OpenID Connect Back-Channel Logout 1.0: where a client wants signed logout tokens POSTed when
-- a session of its users ends (end-session, sign out everywhere, a disabled or deleted user),
-- and whether it needs the `sid` in them. Delivery goes through the LOGOUTS queue; results go
-- to audit_logs. (0011 is taken by a feature developed alongside.)
ALTER TABLE oidc_clients ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE oidc_clients ADD COLUMN backchannel_logout_session_required INTEGER NOT NULL DEFAULT 0;
