//! The signed-in person's own account: what the account page shows, profile changes, and
//! renaming or removing their passkeys. Every use case here acts on the session's own user.

use serde_json::json;

use super::Ctx;
use crate::account::{ProfileChange, ProfileInput};
use crate::admin::paging::Page;
use crate::error::{Error, Result};
use crate::storage::audit::{self, AuditEntry, AuditFilter, When};
use crate::storage::clients::{self, LaunchableApp};
use crate::storage::own_apps::{self, AuthorizedApp};
use crate::storage::passkeys::{self, LastPasskey, PasskeyRow};
use crate::storage::sessions::SessionWithUser;
use crate::storage::users::{self, UserRow};

/// What the account page shows besides the user: their passkeys (oldest first) and the apps
/// they may launch.
#[derive(Debug, Clone)]
pub struct Overview {
    pub passkeys: Vec<PasskeyRow>,
    pub apps: Vec<LaunchableApp>,
}

pub async fn overview(ctx: &Ctx<'_>, session: &SessionWithUser) -> Result<Overview> {
    let user_id = &session.user.id;
    Ok(Overview {
        passkeys: passkeys::list_for_user(ctx.db, ctx.tenant_id(), user_id).await?,
        apps: clients::launchable_by(ctx.db, ctx.tenant_id(), user_id).await?,
    })
}

/// Changes the fields of the person's profile that the tenant lets people edit; returns the
/// user as it now is. A field not editable, invalid, or (username, email) held by another
/// account is a field error naming it.
pub async fn update_profile(
    ctx: &Ctx<'_>,
    session: &SessionWithUser,
    input: &ProfileInput,
) -> Result<UserRow> {
    let change = ProfileChange::validate(input, &ctx.tenant.tenant.settings.user_editable_fields)?;
    users::update_profile(ctx.db, ctx.tenant_id(), &session.user.id, &change, ctx.now)
        .await?
        .ok_or(Error::Unauthenticated)
}

/// Renames one of the person's passkeys.
pub async fn rename_passkey(
    ctx: &Ctx<'_>,
    session: &SessionWithUser,
    credential_id: &str,
    name: &str,
) -> Result<()> {
    let name = crate::account::passkey_name(name)?;
    if passkeys::rename(
        ctx.db,
        ctx.tenant_id(),
        &session.user.id,
        credential_id,
        &name,
    )
    .await?
    {
        Ok(())
    } else {
        Err(Error::NotFound("This passkey".into()))
    }
}

/// Removes one of the person's passkeys, audited. Their only passkey goes only when
/// `confirmed_last` says they accepted being locked out (409 otherwise), and never when it is
/// the last passkey of the tenant's last admin who can sign in (409).
pub async fn delete_passkey(
    ctx: &Ctx<'_>,
    session: &SessionWithUser,
    credential_id: &str,
    confirmed_last: bool,
) -> Result<()> {
    let user_id = &session.user.id;
    let entry = audit::insert_when_statement(
        ctx.db,
        ctx.tenant_id(),
        "passkey_removed",
        Some(user_id),
        None,
        &ctx.origin,
        &json!({ "user_id": user_id, "credential_id": credential_id, "by": "self" }),
        ctx.now,
        When::PreviousChanged,
    )?;
    let last = if confirmed_last {
        LastPasskey::MayGo
    } else {
        LastPasskey::Keep
    };
    passkeys::delete_guarded(
        ctx.db,
        ctx.tenant_id(),
        user_id,
        credential_id,
        last,
        Some(entry),
    )
    .await?
    .into_result()
}

/// How many of the person's own audit entries the account page shows.
pub const RECENT_ACTIVITY: u32 = 20;

/// The applications the person authorized, most recently used first.
pub async fn authorized_apps(
    ctx: &Ctx<'_>,
    session: &SessionWithUser,
) -> Result<Vec<AuthorizedApp>> {
    own_apps::of_user(ctx.db, ctx.tenant_id(), &session.user.id, ctx.now).await
}

/// Ends the person's access from one application: its grants (and so every token of them) and
/// their consent, audited. Not found when the application holds nothing of theirs.
pub async fn revoke_app(ctx: &Ctx<'_>, session: &SessionWithUser, client_id: &str) -> Result<()> {
    let user_id = &session.user.id;
    // Read first (a rare action), so only access that exists is revoked and audited.
    let held = own_apps::of_user(ctx.db, ctx.tenant_id(), user_id, ctx.now).await?;
    if !held.iter().any(|app| app.client_id == client_id) {
        return Err(Error::NotFound("This application".into()));
    }
    let entry = audit::insert_when_statement(
        ctx.db,
        ctx.tenant_id(),
        "app_access_revoked",
        Some(user_id),
        Some(client_id),
        &ctx.origin,
        &json!({ "by": "self" }),
        ctx.now,
        When::Always,
    )?;
    own_apps::revoke(ctx.db, ctx.tenant_id(), user_id, client_id, ctx.now, entry).await?;
    Ok(())
}

/// The person's own recent audit entries (sign-ins with where from, passkeys, recovery),
/// newest first.
pub async fn recent_activity(ctx: &Ctx<'_>, session: &SessionWithUser) -> Result<Vec<AuditEntry>> {
    let filter = AuditFilter {
        user_id: Some(session.user.id.clone()),
        ..AuditFilter::default()
    };
    let page = Page {
        page: 1,
        limit: RECENT_ACTIVITY,
    };
    Ok(audit::list(ctx.db, ctx.tenant_id(), &filter, &page)
        .await?
        .0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::ProfileInput;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::{self, client_input, db, run, tenant, user, NOW};
    use crate::testing::{ctx, snapshot};
    use crate::usecase::sessions;

    /// The user's session (signed in now).
    async fn signed_in(c: &Ctx<'_>, user_id: &str) -> SessionWithUser {
        let session =
            sessions::new_session(c, user_id, crate::oidc::amr::SignInMethod::OneTimeLink);
        assert!(
            crate::storage::sessions::create(
                c.db,
                c.tenant_id(),
                crate::storage::sessions::SignIn::plain(&session)
            )
            .await
            .unwrap()
            .created
        );
        sessions::current(c, Some(&session.id))
            .await
            .unwrap()
            .unwrap()
    }

    async fn acme() -> (Db, TenantSnapshot) {
        let db = db();
        let t = tenant(&db, "acme").await;
        let snap = snapshot(&t);
        (db, snap)
    }

    async fn names(c: &Ctx<'_>, s: &SessionWithUser) -> Vec<String> {
        overview(c, s)
            .await
            .unwrap()
            .passkeys
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    #[test]
    fn the_only_passkey_goes_only_when_confirmed_and_never_the_last_admins() {
        run(async {
            let (db, snap) = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let grace = user(&db, &tid, "grace", false).await;
            testing::passkey(&db, &tid, &grace, "g1").await;
            testing::passkey(&db, &tid, &grace, "g2").await;
            let s = signed_in(&c, &grace).await;

            // One of two: no confirmation needed, audited.
            delete_passkey(&c, &s, "g1", false).await.unwrap();
            let removed: Vec<_> = testing::audit_events(&db, &tid)
                .await
                .into_iter()
                .filter(|(e, ..)| e == "passkey_removed")
                .collect();
            assert_eq!(removed.len(), 1);
            assert_eq!(removed[0].2["credential_id"], "g1");
            assert_eq!(removed[0].2["by"], "self");

            // The only one: refused unless confirmed, and the refusal writes nothing.
            let refused = delete_passkey(&c, &s, "g2", false).await;
            assert!(
                matches!(&refused, Err(Error::Conflict(m)) if m.contains("only passkey")),
                "{refused:?}"
            );
            assert_eq!(names(&c, &s).await.len(), 1);
            delete_passkey(&c, &s, "g2", true).await.unwrap();
            assert!(names(&c, &s).await.is_empty());
            let removed = testing::audit_events(&db, &tid)
                .await
                .into_iter()
                .filter(|(e, ..)| e == "passkey_removed")
                .count();
            assert_eq!(removed, 2, "no entry for the refusal");

            // Not found: gone already, or another person's.
            let bob = user(&db, &tid, "bob", false).await;
            testing::passkey(&db, &tid, &bob, "b1").await;
            assert!(matches!(
                delete_passkey(&c, &s, "g2", true).await,
                Err(Error::NotFound(_))
            ));
            assert!(matches!(
                delete_passkey(&c, &s, "b1", true).await,
                Err(Error::NotFound(_))
            ));

            // The last admin who can sign in keeps her last passkey, even confirmed.
            let ada = user(&db, &tid, "ada", true).await;
            testing::passkey(&db, &tid, &ada, "a1").await;
            let admin = signed_in(&c, &ada).await;
            let kept = delete_passkey(&c, &admin, "a1", true).await;
            assert!(
                matches!(&kept, Err(Error::Conflict(m)) if m.contains("only admin")),
                "{kept:?}"
            );
            // With a second passkey, one of them may go.
            testing::passkey(&db, &tid, &ada, "a2").await;
            delete_passkey(&c, &admin, "a1", false).await.unwrap();
            assert_eq!(names(&c, &admin).await.len(), 1);
        });
    }

    #[test]
    fn passkeys_are_renamed_by_their_owner_with_a_visible_name() {
        run(async {
            let (db, snap) = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let grace = user(&db, &tid, "grace", false).await;
            let bob = user(&db, &tid, "bob", false).await;
            testing::passkey(&db, &tid, &grace, "g1").await;
            testing::passkey(&db, &tid, &bob, "b1").await;
            let s = signed_in(&c, &grace).await;
            rename_passkey(&c, &s, "g1", "  YubiKey  ").await.unwrap();
            assert_eq!(names(&c, &s).await, ["YubiKey"]);
            let bad = rename_passkey(&c, &s, "g1", "Key\u{202E}").await;
            assert!(matches!(bad, Err(Error::Invalid { field: "name", .. })));
            assert!(matches!(
                rename_passkey(&c, &s, "b1", "Mine now").await,
                Err(Error::NotFound(_))
            ));
            let bob_session = signed_in(&c, &bob).await;
            assert_eq!(names(&c, &bob_session).await, ["Passkey"]);
        });
    }

    #[test]
    fn a_profile_changes_only_where_the_tenant_allows_and_names_stay_unique() {
        run(async {
            let (db, mut snap) = acme().await;
            snap.tenant.settings.user_editable_fields =
                vec!["first_name".into(), "last_name".into(), "email".into()];
            let c = ctx(&db, &snap, NOW + 5);
            let tid = c.tenant_id().to_string();
            let ada = user(&db, &tid, "ada", false).await;
            user(&db, &tid, "grace", false).await;
            let s = signed_in(&c, &ada).await;
            let input = |pairs: serde_json::Value| -> ProfileInput {
                serde_json::from_value(pairs).unwrap()
            };
            let changed = update_profile(
                &c,
                &s,
                &input(json!({ "first_name": "Augusta Ada", "last_name": "King" })),
            )
            .await
            .unwrap();
            assert_eq!(changed.full_name(), "Augusta Ada King");
            assert_eq!(changed.username, "ada", "untouched fields stay");

            let not_editable = update_profile(&c, &s, &input(json!({ "username": "queen" }))).await;
            assert!(matches!(
                not_editable,
                Err(Error::Invalid {
                    field: "username",
                    ..
                })
            ));
            let taken =
                update_profile(&c, &s, &input(json!({ "email": "grace@example.com" }))).await;
            assert!(
                matches!(taken, Err(Error::Invalid { field: "email", .. })),
                "{taken:?}"
            );
            let moved = update_profile(&c, &s, &input(json!({ "email": "Ada.King@Example.com" })))
                .await
                .unwrap();
            assert_eq!(moved.email.as_deref(), Some("ada.king@example.com"));
            assert!(!moved.email_verified, "a new address is unverified");
            let cleared = update_profile(&c, &s, &input(json!({ "last_name": "" })))
                .await
                .unwrap();
            assert_eq!(cleared.last_name, None);
        });
    }

    #[test]
    fn a_username_another_account_holds_is_refused_on_that_field() {
        run(async {
            let (db, mut snap) = acme().await;
            snap.tenant.settings.user_editable_fields = vec!["username".into()];
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let ada = user(&db, &tid, "ada", false).await;
            user(&db, &tid, "grace", false).await;
            let s = signed_in(&c, &ada).await;
            let input: ProfileInput =
                serde_json::from_value(json!({ "username": "Grace" })).unwrap();
            let taken = update_profile(&c, &s, &input).await;
            assert!(
                matches!(
                    taken,
                    Err(Error::Invalid {
                        field: "username",
                        ..
                    })
                ),
                "{taken:?}"
            );
            let input: ProfileInput =
                serde_json::from_value(json!({ "username": "ada2" })).unwrap();
            assert_eq!(
                update_profile(&c, &s, &input).await.unwrap().username,
                "ada2"
            );
        });
    }

    #[test]
    fn the_overview_lists_the_persons_passkeys_and_the_apps_they_may_launch() {
        run(async {
            let (db, snap) = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let ada = user(&db, &tid, "ada", false).await;
            testing::passkey(&db, &tid, &ada, "a1").await;
            let mut wiki = client_input("wiki");
            wiki.launch_url = Some("https://wiki.example.com/".into());
            let alg = wiki.validate().unwrap();
            let create = crate::storage::clients::SaveMode::Create { secret: None };
            crate::storage::clients::save(&db, &tid, "client-wiki", &wiki, alg, NOW, create, None)
                .await
                .unwrap();
            let s = signed_in(&c, &ada).await;
            let o = overview(&c, &s).await.unwrap();
            assert_eq!(o.passkeys.len(), 1);
            assert_eq!(o.passkeys[0].credential_id, "a1");
            assert_eq!(o.apps.len(), 1);
            assert_eq!(o.apps[0].launch_url, "https://wiki.example.com/");
        });
    }

    #[test]
    fn a_person_sees_the_apps_they_authorized_and_revoking_one_ends_its_tokens() {
        let db = db();
        run(async {
            let (t, app, tokens) = crate::testing::oidc::issued(&db).await;
            let tid = t.tenant.id.clone();
            let c = crate::testing::oidc::ctx(&db, &t, NOW + 60);
            let claims = crate::usecase::userinfo::claims_for(&c, &tokens.access_token)
                .await
                .unwrap();
            let alice = claims["sub"].as_str().unwrap().to_string();
            let bob = user(&db, &tid, "bob", false).await;
            let session = signed_in(&c, &alice).await;
            let apps = authorized_apps(&c, &session).await.unwrap();
            assert_eq!(apps.len(), 1);
            assert_eq!(apps[0].client_id, app.id);
            assert_eq!(apps[0].last_used_at, NOW);
            // Nobody else's apps, and nobody else can revoke them.
            let bobs = signed_in(&c, &bob).await;
            assert!(authorized_apps(&c, &bobs).await.unwrap().is_empty());
            assert!(matches!(
                revoke_app(&c, &bobs, &app.id).await,
                Err(Error::NotFound(_))
            ));

            revoke_app(&c, &session, &app.id).await.unwrap();
            assert!(
                crate::usecase::userinfo::claims_for(&c, &tokens.access_token)
                    .await
                    .is_err()
            );
            assert!(authorized_apps(&c, &session).await.unwrap().is_empty());
            assert!(matches!(
                revoke_app(&c, &session, &app.id).await,
                Err(Error::NotFound(_))
            ));

            let activity = recent_activity(&c, &session).await.unwrap();
            assert_eq!(activity[0].event, "app_access_revoked");
            assert_eq!(activity[0].client_id.as_deref(), Some(&*app.id));
            assert!(activity
                .iter()
                .all(|e| e.user_id.as_deref() == Some(&*alice)));
        });
    }
}
