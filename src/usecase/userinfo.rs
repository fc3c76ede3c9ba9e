//! The UserInfo endpoint's use case (OIDC Core §5.3): the claims an access token releases.

use serde_json::Value;

use super::Ctx;
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::oidc::claims;
use crate::oidc::error::OAuthError;
use crate::oidc::scope::ScopeSet;
use crate::storage::grants;

/// The claims the access token `token` releases under its scopes; `invalid_token` when the
/// token is unknown, expired, revoked or its user disabled.
pub async fn claims_for(ctx: &Ctx<'_>, token: &str) -> Result<Value> {
    let found =
        grants::find_access_token(ctx.db, ctx.tenant_id(), &secret_hash(token), ctx.now).await?;
    let (Some(token), Some(user)) = (found.token, found.user) else {
        return Err(
            OAuthError::invalid_token("the access token is invalid, expired or revoked").into(),
        );
    };
    let scopes = ScopeSet::parse_lenient(&token.scope);
    Ok(claims::userinfo(
        &user,
        &scopes,
        (&ctx.tenant.tenant.settings).into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::oidc::error::ErrorCode;
    use crate::oidc::token::ACCESS_TOKEN_TTL;
    use crate::testing::oidc::{ctx, issued};
    use crate::testing::{self, run, NOW};

    fn invalid_token(result: Result<Value>) -> bool {
        matches!(result, Err(Error::OAuth(e)) if e.code == ErrorCode::InvalidToken)
    }

    #[test]
    fn a_live_token_releases_the_claims_of_its_scopes() {
        let db = testing::db();
        run(async {
            let (t, _, tokens) = issued(&db).await;
            let claims = claims_for(&ctx(&db, &t, NOW + 1), &tokens.access_token)
                .await
                .unwrap();
            assert_eq!(claims["sub"], "user-alice");
            assert_eq!(claims["email"], "alice@example.com");
            assert_eq!(claims["preferred_username"], "alice");
            assert!(
                claims.get("groups").is_none(),
                "no groups scope was granted"
            );
        });
    }

    #[test]
    fn expired_unknown_and_disabled_users_tokens_are_refused() {
        let db = testing::db();
        run(async {
            let (t, _, tokens) = issued(&db).await;
            assert!(invalid_token(
                claims_for(&ctx(&db, &t, NOW + ACCESS_TOKEN_TTL), &tokens.access_token).await
            ));
            assert!(invalid_token(
                claims_for(&ctx(&db, &t, NOW), "unknown").await
            ));
            user_disabled(&db, &t.tenant.id).await;
            assert!(invalid_token(
                claims_for(&ctx(&db, &t, NOW), &tokens.access_token).await
            ));
        });
    }

    /// Disables alice the way an admin does (which also revokes her grants), keeping an admin.
    async fn user_disabled(db: &crate::storage::db::Db, tenant_id: &str) {
        testing::user(db, tenant_id, "root", true).await;
        let flags = crate::admin::user::AdminFlags {
            disabled: Some(true),
            ..Default::default()
        };
        let audit = crate::storage::audit::insert_statement(
            db,
            tenant_id,
            "user_updated",
            None,
            None,
            &Default::default(),
            &serde_json::json!({}),
            NOW,
        )
        .unwrap();
        crate::storage::users::update_flags(db, tenant_id, "user-alice", &flags, None, NOW, audit)
            .await
            .unwrap();
    }
}
