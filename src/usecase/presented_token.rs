//! The stored hash a presented access token is looked up by, for userinfo, introspection and
//! revocation: the pure reading of `oidc::access_token`, with a JWT's signature checked by the
//! request's [`SignatureVerifier`](super::SignatureVerifier) (WebCrypto in the Worker).

use super::Ctx;
use crate::error::Result;
use crate::oidc::access_token::{read_presented, Presented};

/// An opaque token's hash; a JWT access token's `jti` once its signature verifies; `None` for
/// anything else (it matches no token).
pub async fn lookup_hash(ctx: &Ctx<'_>, token: &str) -> Result<Option<String>> {
    match read_presented(token, &ctx.tenant.jwks(ctx.now)) {
        Presented::Opaque { hash } => Ok(Some(hash)),
        Presented::Refused => Ok(None),
        Presented::Signed { checks, jti } => {
            for check in &checks {
                if ctx.verifier.verify(check).await? {
                    return Ok(Some(jti));
                }
            }
            Ok(None)
        }
    }
}
