//! The stored hash a presented access token is looked up by, for userinfo, introspection and
//! revocation: the pure reading of `oidc::access_token`, with a JWT's signature checked by the
//! request's [`SignatureVerifier`](super::SignatureVerifier) (WebCrypto in the Worker).

use super::Ctx;
use crate::error::Result;
use crate::oidc::access_token::{read_presented, Presented};

/// A presented access token, read and (for a JWT) verified.
pub enum Verified {
    /// An opaque token: looked up by this hash.
    Opaque { hash: String },
    /// A JWT access token whose signature verified against the tenant's keys.
    Jwt {
        jti: String,
        claims: serde_json::Value,
    },
    /// Anything else: it matches no token.
    Nothing,
}

impl Verified {
    /// The stored hash to look the token up by (a JWT's `jti`).
    pub fn lookup_hash(&self) -> Option<&str> {
        match self {
            Verified::Opaque { hash } => Some(hash),
            Verified::Jwt { jti, .. } => Some(jti),
            Verified::Nothing => None,
        }
    }
}

/// Reads `token`, checking a JWT's signature with the request's verifier.
pub async fn verify(ctx: &Ctx<'_>, token: &str) -> Result<Verified> {
    match read_presented(token, &ctx.tenant.jwks(ctx.now)) {
        Presented::Opaque { hash } => Ok(Verified::Opaque { hash }),
        Presented::Refused => Ok(Verified::Nothing),
        Presented::Signed {
            checks,
            jti,
            claims,
        } => {
            for check in &checks {
                if ctx.verifier.verify(check).await? {
                    return Ok(Verified::Jwt { jti, claims });
                }
            }
            Ok(Verified::Nothing)
        }
    }
}

/// An opaque token's hash; a JWT access token's `jti` once its signature verifies; `None` for
/// anything else (it matches no token).
pub async fn lookup_hash(ctx: &Ctx<'_>, token: &str) -> Result<Option<String>> {
    Ok(verify(ctx, token).await?.lookup_hash().map(str::to_string))
}
