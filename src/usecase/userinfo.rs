//! The UserInfo endpoint's use case (OIDC Core §5.3): the claims an access token releases.

use serde_json::Value;

use super::presented_token;
use super::Ctx;
use crate::error::Result;
use crate::oidc::claims;
use crate::oidc::error::OAuthError;
use crate::oidc::scope::ScopeSet;
use crate::storage::grants;

/// The claims the access token `token` releases under its scopes; `invalid_token` when the
/// token is unknown, expired, revoked or its user disabled.
///
/// Read from a replica near the Worker unless the tenant asks for strict reads
/// (`TenantSettings::strict_reads`). A token the replica does not know may have been minted a
/// moment ago (apps call userinfo right after the token exchange), so only the primary may
/// declare it unknown: a miss is asked again there.
pub async fn claims_for(ctx: &Ctx<'_>, token: &str) -> Result<Value> {
    let Some(hash) = presented_token::lookup_hash(ctx, token).await? else {
        return Err(
            OAuthError::invalid_token("the access token is invalid, expired or revoked").into(),
        );
    };
    let hash = hash.as_str();
    let found = ctx
        .read_fresh(
            |db| async move { grants::find_access_token(&db, ctx.tenant_id(), hash, ctx.now).await },
            |found| found.token.is_some(),
        )
        .await?;
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
    use crate::tenancy::TenantSnapshot;
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

    /// A primary in a file, a replica that is a copy of it taken now (so it lags every later
    /// write), and the tenant with its token, issued before the copy when `before_copy`.
    fn primary_and_lagging_replica(
        dir: &std::path::Path,
        before_copy: bool,
    ) -> (crate::storage::db::Db, Option<(TenantSnapshot, String)>) {
        use crate::storage::backend::sqlite::Sqlite;
        let primary_path = dir.join("primary.sqlite");
        let primary = crate::storage::db::Db::new(Sqlite::open(&primary_path, true).unwrap());
        let issued_first = before_copy.then(|| run(issued(&primary)));
        let replica_path = dir.join("replica.sqlite");
        std::fs::copy(&primary_path, &replica_path).unwrap();
        let db = primary.with_replica(Sqlite::open(&replica_path, false).unwrap());
        let found = issued_first.map(|(t, _, tokens)| (t, tokens.access_token));
        (db, found)
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("edge-id-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_token_the_replica_has_not_seen_yet_is_found_on_the_primary() {
        let dir = scratch("userinfo-fresh");
        let (db, _) = primary_and_lagging_replica(&dir, false);
        run(async {
            let (t, _, tokens) = issued(&db).await;
            let (primary_before, replica_before) = (db.round_trips(), db.replica_round_trips());
            let claims = claims_for(&ctx(&db, &t, NOW + 1), &tokens.access_token)
                .await
                .unwrap();
            assert_eq!(claims["sub"], "user-alice");
            assert_eq!(
                db.replica_round_trips() - replica_before,
                1,
                "asked the replica first"
            );
            assert_eq!(
                db.round_trips() - primary_before,
                1,
                "then the primary, on the miss"
            );
        });
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_replicated_token_costs_no_primary_trip_and_strict_reads_close_the_lag_window() {
        let dir = scratch("userinfo-lag");
        let (db, issued) = primary_and_lagging_replica(&dir, true);
        let (t, token) = issued.unwrap();
        run(async {
            let primary_before = db.round_trips();
            claims_for(&ctx(&db, &t, NOW + 1), &token).await.unwrap();
            assert_eq!(
                db.round_trips(),
                primary_before,
                "served by the replica alone"
            );
            // Revoked on the primary only: the lagging replica still reads it as live (the
            // documented window); a tenant with strict reads sees the revocation at once.
            user_disabled(&db, &t.tenant.id).await;
            assert!(claims_for(&ctx(&db, &t, NOW + 1), &token).await.is_ok());
            let mut strict = t.clone();
            strict.tenant.settings.strict_reads = true;
            let replica_before = db.replica_round_trips();
            assert!(invalid_token(
                claims_for(&ctx(&db, &strict, NOW + 1), &token).await
            ));
            assert_eq!(
                db.replica_round_trips(),
                replica_before,
                "strict reads skip the replica"
            );
        });
        std::fs::remove_dir_all(dir).unwrap();
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
