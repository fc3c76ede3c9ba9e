-- How a client authenticates at the token, introspection and revocation endpoints
-- (RFC 7591 `token_endpoint_auth_method`): with a secret (client_secret_basic or
-- client_secret_post: either is accepted from such a client), with a JWT signed by one of its
-- registered keys (private_key_jwt, RFC 7523), or not at all (none: public clients). A client
-- registered for one method is refused with any other. Its keys for private_key_jwt are an
-- inline JWKS or a jwks_uri fetched (and cached) when an assertion arrives. (0012-0014 are taken
-- by features developed alongside.)
ALTER TABLE oidc_clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic'
  CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'));
ALTER TABLE oidc_clients ADD COLUMN jwks TEXT;
ALTER TABLE oidc_clients ADD COLUMN jwks_uri TEXT;
-- Federated client credentials (as Pocket ID's): issuers (a CI system, a Kubernetes service
-- account issuer) whose JWTs for a given subject the client accepts as its client assertion,
-- verified through the issuer's discovery and JWKS. JSON [{issuer, subject, audience}].
ALTER TABLE oidc_clients ADD COLUMN federated_credentials TEXT NOT NULL DEFAULT '[]';
UPDATE oidc_clients SET token_endpoint_auth_method = 'none' WHERE is_public <> 0;
