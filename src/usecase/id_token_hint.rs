//! Verifying an `id_token_hint` for a use case: the pure reading of `oidc::hint`, with the
//! signature checked by the request's [`SignatureVerifier`](super::SignatureVerifier).

use super::Ctx;
use crate::error::Result;
use crate::oidc::hint;
use crate::oidc::logout::Hint;

/// The hint (if any) as this tenant judges it: valid only when signed by one of its published
/// keys for its issuer.
pub async fn verify(ctx: &Ctx<'_>, token: Option<&str>) -> Result<Hint> {
    let pending = match hint::read(token, &ctx.tenant.jwks(ctx.now), ctx.issuer) {
        Ok(pending) => pending,
        Err(decided) => return Ok(decided),
    };
    let mut verified = false;
    for check in &pending.checks {
        if ctx.verifier.verify(check).await? {
            verified = true;
            break;
        }
    }
    Ok(pending.conclude(verified))
}
