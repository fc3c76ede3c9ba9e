//! Token revocation (RFC 7009) for clients.

use super::{client_auth, presented_token, Ctx};
use crate::error::Result;
use crate::oidc::client::ClientCredentials;
use crate::oidc::error::OAuthError;
use crate::storage::grants;

/// Ends the grant behind `token` (access or refresh) when it belongs to the authenticated
/// client. Unknown or foreign tokens are no error (RFC 7009 §2.2), so the endpoint reveals
/// nothing. The client is authenticated before a missing `token` is reported.
pub async fn revoke(ctx: &Ctx<'_>, creds: &ClientCredentials, token: Option<&str>) -> Result<()> {
    let client = client_auth::authenticate(ctx, creds).await?;
    let token = token.ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    // A JWT that does not verify names no token: nothing to revoke, no error (RFC 7009 §2.2).
    let Some(hash) = presented_token::lookup_hash(ctx, token).await? else {
        return Ok(());
    };
    grants::revoke_token(ctx.db, ctx.tenant_id(), &client.id, &hash, ctx.now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::error::ErrorCode;
    use crate::testing::oidc::{creds, ctx, issued, SECRET};
    use crate::testing::{self, grants, run, NOW};
    use crate::usecase::userinfo;

    #[test]
    fn revoking_a_refresh_token_ends_its_access_tokens_too() {
        let db = testing::db();
        run(async {
            let (t, _, tokens) = issued(&db).await;
            let c = ctx(&db, &t, NOW);
            revoke(
                &c,
                &creds("client-app", Some(SECRET)),
                tokens.refresh_token.as_deref(),
            )
            .await
            .unwrap();
            assert!(userinfo::claims_for(&c, &tokens.access_token)
                .await
                .is_err());
            assert_eq!(grants(&db, &t.tenant.id).await[0].revoked_at, Some(NOW));
        });
    }

    #[test]
    fn revoking_an_access_token_ends_the_grant() {
        let db = testing::db();
        run(async {
            let (t, _, tokens) = issued(&db).await;
            let c = ctx(&db, &t, NOW);
            revoke(
                &c,
                &creds("client-app", Some(SECRET)),
                Some(&tokens.access_token),
            )
            .await
            .unwrap();
            assert!(userinfo::claims_for(&c, &tokens.access_token)
                .await
                .is_err());
            assert!(grants(&db, &t.tenant.id).await[0].revoked_at.is_some());
        });
    }

    #[test]
    fn another_clients_or_an_unknown_token_changes_nothing() {
        let db = testing::db();
        run(async {
            let (t, _, tokens) = issued(&db).await;
            let c = ctx(&db, &t, NOW);
            let other = testing::client(
                &db,
                &t.tenant.id,
                &testing::client_input("other"),
                Some("o"),
            )
            .await;
            revoke(&c, &creds(&other.id, Some("o")), Some(&tokens.access_token))
                .await
                .unwrap();
            revoke(&c, &creds("client-app", Some(SECRET)), Some("unknown"))
                .await
                .unwrap();
            assert!(userinfo::claims_for(&c, &tokens.access_token).await.is_ok());
            let err = revoke(
                &c,
                &creds("client-app", Some("wrong")),
                Some(&tokens.access_token),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, crate::error::Error::OAuth(ref e) if e.code == ErrorCode::InvalidClient)
            );
            assert!(grants(&db, &t.tenant.id).await[0].revoked_at.is_none());
        });
    }
}
