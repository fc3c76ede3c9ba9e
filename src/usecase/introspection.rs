//! Token introspection (RFC 7662) for clients: whether a token is live, and what it grants.

use serde::Serialize;

use serde_json::Value;

use super::presented_token::{self, Verified};
use super::{client_auth, Ctx};
use crate::error::Result;
use crate::oidc::client::ClientCredentials;
use crate::oidc::error::OAuthError;
use crate::storage::grants::{self, TokenRow};

/// The introspection response: `{"active": false}`, or the token's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Introspection {
    Inactive { active: bool },
    Active(Box<ActiveToken>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveToken {
    pub active: bool,
    pub scope: String,
    pub client_id: String,
    pub sub: String,
    pub aud: String,
    pub iss: String,
    pub exp: i64,
    pub iat: i64,
    /// When the person signed in; none for a client's own (client_credentials) token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// `Bearer` for an access token, `refresh_token` for a refresh token.
    pub token_type: &'static str,
}

impl Introspection {
    pub fn is_active(&self) -> bool {
        matches!(self, Introspection::Active(_))
    }
}

/// Introspects `token` for the authenticated client. A client learns about its own tokens
/// only: another client's token is reported inactive, so clients of one tenant cannot probe
/// each other's users. An access token's user must still be enabled. `hint` is the
/// `token_type_hint`: `refresh_token` skips the access token lookup. The client is
/// authenticated before a missing `token` is reported.
///
/// Introspection writes nothing, so it reads like userinfo: the client and the token from a
/// replica near the Worker (`Ctx::read_fresh`: a miss is asked again on the primary), unless
/// the tenant asks for strict reads. The window this leaves is userinfo's (README, "Round
/// trips"): for the replication delay a token revoked on the primary may still introspect as
/// active, and a client secret regenerated a moment ago may still be accepted.
pub async fn introspect(
    ctx: &Ctx<'_>,
    creds: &ClientCredentials,
    token: Option<&str>,
    hint: Option<&str>,
) -> Result<Introspection> {
    let client = client_auth::authenticate_on_reader(ctx, creds).await?;
    let token = token.ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    // A JWT that does not verify is reported inactive, like any unknown token.
    let presented = presented_token::verify(ctx, token).await?;
    let hash = presented.lookup_hash().unwrap_or_default();
    let (tenant_id, now) = (ctx.tenant_id(), ctx.now);
    let access = if hint == Some("refresh_token") {
        None
    } else {
        let found = ctx
            .read_fresh(
                |db| async move { grants::find_access_token(&db, tenant_id, hash, now).await },
                |found| found.token.is_some(),
            )
            .await?;
        found.token.filter(|_| found.user.is_some())
    };
    let found = match access {
        Some(t) => Some((t, "Bearer")),
        None => ctx
            .read_fresh(
                |db| async move { grants::find_live_refresh(&db, tenant_id, hash, now).await },
                Option::is_some,
            )
            .await?
            .map(|t| (t, "refresh_token")),
    };
    Ok(match found {
        Some((t, token_type)) if t.client_id == client.id => {
            Introspection::Active(Box::new(active(ctx, t, token_type)))
        }
        Some(_) => Introspection::Inactive { active: false },
        None => match presented {
            Verified::Jwt { claims, .. } if hint != Some("refresh_token") => {
                machine_token(ctx, &client.id, &claims)
            }
            _ => Introspection::Inactive { active: false },
        },
    })
}

/// A verified JWT that no stored row stands for: a client_credentials token, stateless and
/// live until it expires (it cannot be revoked: see README). Reported to its own client only.
fn machine_token(ctx: &Ctx<'_>, client_id: &str, claims: &Value) -> Introspection {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    // A client's own token names it as client and subject and carries no person's sign-in
    // time; a user's JWT (its row revoked, say) never passes for one.
    let ours = text("client_id") == Some(client_id)
        && text("sub") == Some(client_id)
        && claims.get("auth_time").is_none();
    let (Some(exp), Some(iat), Some(aud)) = (number("exp"), number("iat"), text("aud")) else {
        return Introspection::Inactive { active: false };
    };
    if !ours || exp <= ctx.now {
        return Introspection::Inactive { active: false };
    }
    Introspection::Active(Box::new(ActiveToken {
        active: true,
        scope: text("scope").unwrap_or_default().to_string(),
        client_id: client_id.to_string(),
        sub: client_id.to_string(),
        aud: aud.to_string(),
        iss: text("iss").unwrap_or(ctx.issuer).to_string(),
        exp,
        iat,
        auth_time: None,
        token_type: "Bearer",
    }))
}

fn active(ctx: &Ctx<'_>, t: TokenRow, token_type: &'static str) -> ActiveToken {
    ActiveToken {
        active: true,
        scope: t.scope,
        aud: t.client_id.clone(),
        client_id: t.client_id,
        sub: t.user_id,
        iss: ctx.issuer.to_string(),
        exp: t.expires_at,
        iat: t.created_at,
        auth_time: Some(t.auth_time),
        token_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::error::ErrorCode;
    use crate::oidc::token::ACCESS_TOKEN_TTL;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::oidc::{creds, ctx, issued, SECRET};
    use crate::testing::{self, run, NOW};
    use crate::usecase::revocation;

    async fn ask(
        db: &Db,
        t: &TenantSnapshot,
        now: i64,
        token: &str,
        hint: Option<&str>,
    ) -> Introspection {
        introspect(
            &ctx(db, t, now),
            &creds("client-app", Some(SECRET)),
            Some(token),
            hint,
        )
        .await
        .unwrap()
    }

    #[test]
    fn live_tokens_are_active_with_their_facts() {
        let db = testing::db();
        run(async {
            let (t, _, tokens) = issued(&db).await;
            let Introspection::Active(access) =
                ask(&db, &t, NOW + 1, &tokens.access_token, None).await
            else {
                panic!("the access token is live");
            };
            assert_eq!(access.sub, "user-alice");
            assert_eq!(access.client_id, "client-app");
            assert_eq!(access.token_type, "Bearer");
            assert_eq!(access.exp, NOW + ACCESS_TOKEN_TTL);
            assert_eq!(access.iss, crate::testing::oidc::ISSUER);
            let refresh = tokens.refresh_token.as_deref().unwrap();
            for hint in [None, Some("refresh_token")] {
                let Introspection::Active(r) = ask(&db, &t, NOW + 1, refresh, hint).await else {
                    panic!("the refresh token is live");
                };
                assert_eq!(r.token_type, "refresh_token");
            }
            // The hint only orders the lookups: an access token hinted as refresh is not found.
            assert!(!ask(
                &db,
                &t,
                NOW + 1,
                &tokens.access_token,
                Some("refresh_token")
            )
            .await
            .is_active());
        });
    }

    #[test]
    fn introspection_reads_replicas_and_only_strict_tenants_read_the_primary() {
        let (db, dir) = testing::replicated_db("introspect");
        run(async {
            let (mut t, _, tokens) = issued(&db).await;
            let refresh = tokens.refresh_token.as_deref().unwrap();
            // A live token is read from replicas only; a refresh token without its hint first
            // misses as an access token, a miss the primary confirms.
            let access = tokens.access_token.as_str();
            let hinted = Some("refresh_token");
            for (token, hint, primary) in
                [(access, None, 0), (refresh, hinted, 0), (refresh, None, 1)]
            {
                let before = db.round_trips();
                assert!(ask(&db, &t, NOW + 1, token, hint).await.is_active());
                assert_eq!(db.round_trips() - before, primary, "{hint:?}");
            }
            // What a replica does not find, only the primary may call unknown.
            let before = db.round_trips();
            assert!(!ask(&db, &t, NOW + 1, "unknown", None).await.is_active());
            assert_eq!(
                db.round_trips() - before,
                2,
                "the access and refresh misses, asked again"
            );
            t.tenant.settings.strict_reads = true;
            let before = db.round_trips();
            assert!(ask(&db, &t, NOW + 1, &tokens.access_token, None)
                .await
                .is_active());
            assert_eq!(
                db.round_trips() - before,
                2,
                "strict reads: client and token"
            );
        });
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn expired_revoked_unknown_and_foreign_tokens_are_inactive() {
        let db = testing::db();
        run(async {
            let (t, _, tokens) = issued(&db).await;
            let inactive = Introspection::Inactive { active: false };
            assert_eq!(
                ask(&db, &t, NOW + ACCESS_TOKEN_TTL, &tokens.access_token, None).await,
                inactive
            );
            assert_eq!(ask(&db, &t, NOW, "unknown", None).await, inactive);
            let other = testing::client(
                &db,
                &t.tenant.id,
                &testing::client_input("other"),
                Some("o"),
            )
            .await;
            let foreign = introspect(
                &ctx(&db, &t, NOW),
                &creds(&other.id, Some("o")),
                Some(&tokens.access_token),
                None,
            )
            .await
            .unwrap();
            assert_eq!(foreign, inactive, "another client learns nothing");
            revocation::revoke(
                &ctx(&db, &t, NOW),
                &creds("client-app", Some(SECRET)),
                Some(&tokens.access_token),
            )
            .await
            .unwrap();
            assert_eq!(
                ask(&db, &t, NOW, &tokens.access_token, None).await,
                inactive
            );
            assert_eq!(
                ask(&db, &t, NOW, tokens.refresh_token.as_deref().unwrap(), None).await,
                inactive
            );
        });
    }

    #[test]
    fn the_client_must_authenticate_before_anything_else() {
        let db = testing::db();
        run(async {
            let (t, _, _) = issued(&db).await;
            let c = ctx(&db, &t, NOW);
            let err = introspect(&c, &creds("client-app", Some("wrong")), None, None)
                .await
                .unwrap_err();
            assert!(
                matches!(err, crate::error::Error::OAuth(ref e) if e.code == ErrorCode::InvalidClient),
                "{err:?}"
            );
            let err = introspect(&c, &creds("client-app", Some(SECRET)), None, None)
                .await
                .unwrap_err();
            assert!(
                matches!(err, crate::error::Error::OAuth(ref e) if e.code == ErrorCode::InvalidRequest),
                "{err:?}"
            );
        });
    }
}
