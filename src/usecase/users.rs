//! Managing a tenant's users from the admin API: list, read, create, edit, disable, delete,
//! group membership, passkeys, custom claims, sessions, and one-time login and invitation
//! links. The last-admin rule (someone must be able to administer the tenant) is enforced in
//! storage, inside the writes, so two admins acting at once cannot both break it; here it is
//! only explained.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::backchannel::Logouts;
use super::email::{self, MailOutcome, Post};
use super::AdminCtx;
use crate::admin::paging::Page;
use crate::admin::requests::InvitationInput;
use crate::admin::user::{AdminFlags, AdminUserInput};
use crate::crypto::random;
use crate::email::message;
use crate::error::{Error, Result};
use crate::storage::audit::When;
use crate::storage::ceremonies::{self, LinkPurpose, NewLink};
use crate::storage::invitations::{self, InvitationDetails, InvitationRow, NewInvitation};
use crate::storage::passkeys;
use crate::storage::users::{self, Membership, SessionView, UserRow};

/// A user as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub is_admin: bool,
    pub disabled: bool,
    pub custom_claims: Value,
    pub created_at: i64,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        Self {
            custom_claims: Value::Object(u.custom_claims),
            id: u.id,
            username: u.username,
            email: u.email,
            email_verified: u.email_verified,
            first_name: u.first_name,
            last_name: u.last_name,
            display_name: u.display_name,
            is_admin: u.is_admin,
            disabled: u.disabled,
            created_at: u.created_at,
        }
    }
}

/// A passkey as the admin API lists it (never its key material).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PasskeySummary {
    pub credential_id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub backed_up: bool,
}

/// A user with their groups and passkeys.
#[derive(Debug, Clone, Serialize)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserView,
    pub groups: Vec<Membership>,
    pub passkeys: Vec<PasskeySummary>,
}

/// A one-time link just created: the token is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedLink {
    pub token: String,
    pub url: String,
    pub expires_at: i64,
}

fn last_admin() -> Error {
    Error::Conflict(
        "This is the tenant's last active admin who can sign in: make someone else an admin \
         and have them add a passkey first."
            .into(),
    )
}

async fn load(ctx: &AdminCtx<'_>, id: &str) -> Result<UserRow> {
    users::find(ctx.db, ctx.tenant_id, id)
        .await?
        .ok_or_else(|| Error::NotFound("This user".into()))
}

/// A page of the tenant's users, searched by name or email, with the total count.
pub async fn list(
    ctx: &AdminCtx<'_>,
    search: Option<&str>,
    page: &Page,
) -> Result<(Vec<UserView>, i64)> {
    let (rows, total) = users::list_page(ctx.db, ctx.tenant_id, search, page).await?;
    Ok((rows.into_iter().map(UserView::from).collect(), total))
}

pub async fn get(ctx: &AdminCtx<'_>, id: &str) -> Result<UserDetail> {
    let user = load(ctx, id).await?;
    let groups = users::groups_of(ctx.db, ctx.tenant_id, id).await?;
    let passkeys = passkeys::list_for_user(ctx.db, ctx.tenant_id, id)
        .await?
        .into_iter()
        .map(|p| PasskeySummary {
            credential_id: p.credential_id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            backed_up: p.backup_state,
        })
        .collect();
    Ok(UserDetail {
        user: user.into(),
        groups,
        passkeys,
    })
}

/// A user without a passkey yet (they get a one-time login link next).
pub async fn create(ctx: &AdminCtx<'_>, input: &AdminUserInput) -> Result<UserView> {
    let (profile, flags) = input.validate_new()?;
    let id = random::id();
    let audit = ctx.audit(
        "user_created",
        None,
        json!({ "user_id": id, "username": profile.username }),
        When::PreviousChanged,
    )?;
    users::create(ctx.db, ctx.tenant_id, &id, &profile, &flags, ctx.now, audit).await?;
    Ok(load(ctx, &id).await?.into())
}

/// Edits a user; fields left out stay as they are. Profile and flags change together or not
/// at all (the last-admin rule guards both in one batch).
/// Disabling a user signs them out everywhere: the clients that held their grants get
/// back-channel logout tokens through `logouts`.
pub async fn update(
    ctx: &AdminCtx<'_>,
    id: &str,
    input: &AdminUserInput,
    logouts: &Logouts<'_>,
) -> Result<UserView> {
    let (change, flags) = input.validate_change()?;
    load(ctx, id).await?;
    let event = match flags.disabled {
        Some(true) => "user_disabled",
        Some(false) => "user_enabled",
        None => "user_updated",
    };
    let audit = ctx.audit(event, None, json!({ "user_id": id }), When::PreviousChanged)?;
    let updated = users::update_flags(
        ctx.db,
        ctx.tenant_id,
        id,
        &flags,
        Some(&change),
        ctx.now,
        audit,
    )
    .await?;
    if !updated.applied {
        return Err(last_admin());
    }
    notify(ctx, logouts, &updated.logouts).await?;
    Ok(load(ctx, id).await?.into())
}

/// Replaces the user's custom claims (Pocket ID's `PUT /api/custom-claims/user/{id}`).
pub async fn set_custom_claims(
    ctx: &AdminCtx<'_>,
    id: &str,
    claims: Map<String, Value>,
) -> Result<Map<String, Value>> {
    load(ctx, id).await?;
    let flags = AdminFlags {
        custom_claims: Some(claims.clone()),
        ..AdminFlags::default()
    };
    let audit = ctx.audit(
        "user_updated",
        None,
        json!({ "user_id": id }),
        When::PreviousChanged,
    )?;
    users::update_flags(ctx.db, ctx.tenant_id, id, &flags, None, ctx.now, audit).await?;
    Ok(claims)
}

/// Deletes the user and everything that is theirs; the clients that held their grants get
/// back-channel logout tokens. An admin cannot delete themselves here.
pub async fn delete(ctx: &AdminCtx<'_>, id: &str, logouts: &Logouts<'_>) -> Result<()> {
    let user = load(ctx, id).await?;
    if matches!(&ctx.author.actor, super::Actor::Admin { user_id } if user_id == id) {
        return Err(Error::Conflict(
            "You cannot delete your own account here; ask another admin.".into(),
        ));
    }
    let audit = ctx.audit(
        "user_deleted",
        None,
        json!({ "user_id": id, "username": user.username }),
        When::PreviousChanged,
    )?;
    let Some(targets) = users::delete(ctx.db, ctx.tenant_id, id, ctx.now, audit).await? else {
        // Refused inside the batch (the last-admin rule is part of every statement, so no
        // separate check precedes it): say which rule, or that the user is gone.
        return Err(
            if users::is_last_active_admin(ctx.db, ctx.tenant_id, id).await? {
                last_admin()
            } else {
                Error::NotFound("This user".into())
            },
        );
    };
    notify(ctx, logouts, &targets).await
}

/// The user's live browser sessions.
pub async fn sessions(ctx: &AdminCtx<'_>, id: &str) -> Result<Vec<SessionView>> {
    load(ctx, id).await?;
    users::sessions_of(ctx.db, ctx.tenant_id, id, ctx.now).await
}

/// Signs the user out everywhere and revokes every token issued to them (a stolen laptop),
/// without disabling the account; the clients that held their grants get back-channel logout
/// tokens.
pub async fn sign_out_everywhere(
    ctx: &AdminCtx<'_>,
    id: &str,
    logouts: &Logouts<'_>,
) -> Result<()> {
    load(ctx, id).await?;
    let audit = ctx.audit(
        "user_signed_out",
        None,
        json!({ "user_id": id }),
        When::RowExists { table: "users", id },
    )?;
    let targets = users::sign_out_everywhere(ctx.db, ctx.tenant_id, id, ctx.now, audit).await?;
    notify(ctx, logouts, &targets).await
}

/// Queues the back-channel logouts of what an admin action ended.
async fn notify(
    ctx: &AdminCtx<'_>,
    logouts: &Logouts<'_>,
    targets: &[crate::storage::backchannel::LogoutTarget],
) -> Result<()> {
    super::backchannel::notify(
        ctx.db,
        logouts,
        ctx.tenant_id,
        targets,
        &ctx.author.origin,
        ctx.now,
    )
    .await
}

/// The most groups one request may put a user in.
const MAX_GROUPS: usize = 200;

/// Sets the groups the user belongs to; returns them.
pub async fn set_groups(
    ctx: &AdminCtx<'_>,
    id: &str,
    group_ids: &[String],
) -> Result<Vec<Membership>> {
    if group_ids.len() > MAX_GROUPS {
        return Err(Error::Invalid {
            field: "group_ids",
            message: format!("at most {MAX_GROUPS} groups"),
        });
    }
    load(ctx, id).await?;
    let audit = ctx.audit(
        "user_groups_set",
        None,
        json!({ "user_id": id, "group_ids": group_ids }),
        When::RowExists { table: "users", id },
    )?;
    users::set_groups(ctx.db, ctx.tenant_id, id, group_ids, audit).await?;
    users::groups_of(ctx.db, ctx.tenant_id, id).await
}

/// Removes a lost or compromised passkey of the user.
pub async fn delete_passkey(ctx: &AdminCtx<'_>, id: &str, credential_id: &str) -> Result<()> {
    let audit = ctx.audit(
        "passkey_removed",
        None,
        json!({ "user_id": id, "credential_id": credential_id }),
        When::PreviousChanged,
    )?;
    passkeys::delete(ctx.db, ctx.tenant_id, id, credential_id, Some(audit))
        .await?
        .into_result()
}

/// A lifetime in minutes: the default when none is asked for, else 1 to `max`.
pub fn link_lifetime(asked: Option<i64>, default: i64, max: i64) -> Result<i64> {
    match asked {
        None => Ok(default),
        Some(m) if (1..=max).contains(&m) => Ok(m),
        Some(_) => Err(Error::Invalid {
            field: "expires_in_minutes",
            message: format!("between 1 and {max} minutes"),
        }),
    }
}

/// A link that signs the user in once (a new user, or one who lost their passkeys: Pocket ID's
/// recovery path). One hour by default, a week at most.
pub async fn create_login_link(
    ctx: &AdminCtx<'_>,
    issuer: &str,
    user_id: &str,
    minutes: Option<i64>,
) -> Result<IssuedLink> {
    let minutes = link_lifetime(minutes, 60, 7 * 24 * 60)?;
    load(ctx, user_id).await?;
    let audit = ctx.audit(
        "one_time_link_created",
        None,
        json!({ "user_id": user_id }),
        When::PreviousChanged,
    )?;
    let link = NewLink {
        purpose: LinkPurpose::Login,
        user_id: Some(user_id),
        created_by: &ctx.author.actor.label(),
        expires_at: ctx.now + minutes * 60,
    };
    let token = ceremonies::create_link(ctx.db, ctx.tenant_id, &link, ctx.now, audit).await?;
    Ok(IssuedLink {
        url: format!("{issuer}/login/code/{token}"),
        token,
        expires_at: link.expires_at,
    })
}

/// [`create_login_link`], then emailed to the user's address, waiting for the verdict (the
/// link stands either way, so the admin can pass it on another way).
pub async fn email_login_link(
    ctx: &AdminCtx<'_>,
    post: &Post,
    issuer: &str,
    user_id: &str,
    minutes: Option<i64>,
) -> Result<EmailedLink> {
    let user = load(ctx, user_id).await?;
    let Some(address) = user.email.clone() else {
        return Err(
            crate::validation::field_error("send_email", "a user with an email address").into(),
        );
    };
    let link = create_login_link(ctx, issuer, user_id, minutes).await?;
    let hours = ((link.expires_at - ctx.now) / 3600).max(1);
    let name = user.full_name();
    let sent = email::send_now(ctx, post, issuer, Some(user_id), |brand| {
        message::login_link_mail(brand, &address, Some(&name), &link.url, hours)
    })
    .await?;
    Ok(EmailedLink { link, email: sent })
}

/// A one-time link and what became of the mail carrying it.
#[derive(Debug, Clone, Serialize)]
pub struct EmailedLink {
    #[serde(flatten)]
    pub link: IssuedLink,
    pub email: MailOutcome,
}

/// Emails an invitation just made to the address it was made for, waiting for the verdict
/// (recorded in `issued.email`).
pub async fn email_invite(
    ctx: &AdminCtx<'_>,
    post: &Post,
    issuer: &str,
    issued: &mut IssuedInvitation,
) -> Result<()> {
    let Some(address) = issued.invitation.email.clone() else {
        return Err(crate::validation::field_error(
            "email",
            "an address to send the invitation to",
        )
        .into());
    };
    let hours = ((issued.link.expires_at - ctx.now) / 3600).max(1);
    let url = issued.link.url.clone();
    let sent = email::send_now(ctx, post, issuer, None, |brand| {
        message::invitation_mail(brand, &address, &url, hours)
    })
    .await?;
    issued.email = Some(sent);
    Ok(())
}

/// An invitation: a link that creates up to `max_uses` accounts (one by default) within its
/// lifetime (seven days by default, thirty at most), optionally prefilling an email and putting
/// each account in groups.
pub async fn create_invite(
    ctx: &AdminCtx<'_>,
    issuer: &str,
    input: &InvitationInput,
) -> Result<IssuedInvitation> {
    let minutes = link_lifetime(input.expires_in_minutes, 7 * 24 * 60, 30 * 24 * 60)?;
    let (max_uses, email) = input.validate()?;
    let mut group_ids = input.group_ids.clone();
    group_ids.sort();
    group_ids.dedup();
    if !ctx
        .db
        .all_exist("user_groups", ctx.tenant_id, &group_ids)
        .await?
    {
        return Err(crate::validation::field_error("group_ids", "groups of this tenant").into());
    }
    let id = random::id();
    let audit = ctx.audit(
        "invite_created",
        None,
        json!({ "invitation_id": id, "max_uses": max_uses, "group_ids": group_ids }),
        When::PreviousChanged,
    )?;
    let details = InvitationDetails { email, group_ids };
    let expires_at = ctx.now + minutes * 60;
    let token = invitations::create(
        ctx.db,
        ctx.tenant_id,
        &NewInvitation {
            id: &id,
            created_by: &ctx.author.actor.label(),
            expires_at,
            max_uses,
            details: &details,
        },
        ctx.now,
        audit,
    )
    .await?;
    Ok(IssuedInvitation {
        link: IssuedLink {
            url: format!("{issuer}/setup/{token}"),
            token,
            expires_at,
        },
        invitation: invitation_view(
            InvitationRow {
                id,
                created_by: Some(ctx.author.actor.label()),
                created_at: ctx.now,
                expires_at,
                max_uses,
                uses: 0,
                details: serde_json::to_string(&details).unwrap_or_default(),
            },
            ctx.now,
        ),
        email: None,
    })
}

/// An invitation just made: its link (shown this once) and how it is listed.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedInvitation {
    #[serde(flatten)]
    pub link: IssuedLink,
    pub invitation: Invitation,
    /// What became of the mail, when the admin asked to send one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<MailOutcome>,
}

/// An invitation as the admin API lists it (never its link).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: i64,
    pub uses: i64,
    pub email: Option<String>,
    pub group_ids: Vec<String>,
    pub status: InvitationStatus,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Active,
    UsedUp,
    Expired,
}

fn invitation_view(row: InvitationRow, now: i64) -> Invitation {
    let details: InvitationDetails = serde_json::from_str(&row.details).unwrap_or_default();
    let status = if row.uses >= row.max_uses {
        InvitationStatus::UsedUp
    } else if row.expires_at <= now {
        InvitationStatus::Expired
    } else {
        InvitationStatus::Active
    };
    Invitation {
        id: row.id,
        created_by: row.created_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
        max_uses: row.max_uses,
        uses: row.uses,
        email: details.email,
        group_ids: details.group_ids,
        status,
    }
}

/// The tenant's invitations, newest first, with their status.
pub async fn list_invites(ctx: &AdminCtx<'_>) -> Result<Vec<Invitation>> {
    Ok(invitations::list(ctx.db, ctx.tenant_id)
        .await?
        .into_iter()
        .map(|row| invitation_view(row, ctx.now))
        .collect())
}

/// Revokes an invitation: its link stops working at once (accounts made with it stay).
pub async fn revoke_invite(ctx: &AdminCtx<'_>, id: &str) -> Result<()> {
    let audit = ctx.audit(
        "invite_revoked",
        None,
        json!({ "invitation_id": id }),
        When::PreviousChanged,
    )?;
    if invitations::revoke(ctx.db, ctx.tenant_id, id, audit).await? {
        Ok(())
    } else {
        Err(Error::NotFound("This invitation".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::paging::Page;
    use crate::storage::audit::{self, AuditFilter};
    use crate::storage::db::Db;
    use crate::testing::{admin_ctx, db, passkey, run, tenant, user, FIXTURE_EVENT};
    use crate::usecase::backchannel::recording::NOWHERE;
    use crate::usecase::Actor;

    fn input(json: Value) -> AdminUserInput {
        serde_json::from_value(json).unwrap()
    }

    fn as_admin<'a>(db: &'a Db, tenant_id: &'a str, user_id: &str) -> AdminCtx<'a> {
        let actor = Actor::Admin {
            user_id: user_id.to_string(),
        };
        admin_ctx(db, tenant_id, actor)
    }

    fn key<'a>(db: &'a Db, tenant_id: &'a str) -> AdminCtx<'a> {
        admin_ctx(db, tenant_id, Actor::ApiKey { id: "k1".into() })
    }

    async fn events(db: &Db, tenant_id: &str) -> Vec<String> {
        let page = Page::parse(None, Some("100")).unwrap();
        let (entries, _) = audit::list(db, tenant_id, &AuditFilter::default(), &page)
            .await
            .unwrap();
        entries
            .into_iter()
            .map(|e| e.event)
            .filter(|e| e != FIXTURE_EVENT)
            .collect()
    }

    /// A tenant whose only admin who can sign in is `root` (with a passkey).
    async fn tenant_with_root(db: &Db) -> (String, String) {
        let t = tenant(db, "acme").await;
        let root = user(db, &t.id, "root", true).await;
        passkey(db, &t.id, &root, "root-key").await;
        (t.id, root)
    }

    #[test]
    fn create_then_read_back_with_groups_and_passkeys_and_taken_names_conflict() {
        let db = db();
        run(async {
            let (t, _) = tenant_with_root(&db).await;
            let ctx = key(&db, &t);
            let made = create(&ctx, &input(json!({ "username": "ada", "email": "ada@example.com", "first_name": "Ada", "is_admin": true })))
                .await
                .unwrap();
            assert!(made.is_admin && !made.disabled);
            passkey(&db, &t, &made.id, "ada-key").await;
            let detail = get(&ctx, &made.id).await.unwrap();
            assert_eq!(detail.user, made);
            assert_eq!(detail.passkeys.len(), 1);
            assert!(detail.passkeys[0].backed_up);
            let again = create(
                &ctx,
                &input(
                    json!({ "username": "ada", "email": "other@example.com", "first_name": "A" }),
                ),
            )
            .await
            .unwrap_err();
            assert!(matches!(again, Error::Conflict(_)), "{again:?}");
            let (page, total) = list(&ctx, Some("AD"), &Page::parse(None, None).unwrap())
                .await
                .unwrap();
            assert_eq!((page.len(), total), (1, 1));
            assert_eq!(events(&db, &t).await, ["user_created"]);
        });
    }

    #[test]
    fn the_last_admin_who_can_sign_in_cannot_be_demoted_disabled_or_deleted() {
        let db = db();
        run(async {
            let (t, root) = tenant_with_root(&db).await;
            // Another admin without a passkey cannot sign in: they do not count.
            let other = user(&db, &t, "other", true).await;
            let ctx = as_admin(&db, &t, &other);
            for change in [
                json!({ "is_admin": false }),
                json!({ "disabled": true, "first_name": "Changed" }),
            ] {
                let err = update(&ctx, &root, &input(change), &NOWHERE)
                    .await
                    .unwrap_err();
                assert!(
                    matches!(err, Error::Conflict(ref m) if m.contains("last active admin")),
                    "{err:?}"
                );
            }
            let err = delete(&ctx, &root, &NOWHERE).await.unwrap_err();
            assert!(
                matches!(err, Error::Conflict(ref m) if m.contains("last active admin")),
                "{err:?}"
            );
            let kept = get(&ctx, &root).await.unwrap().user;
            assert!(kept.is_admin && !kept.disabled);
            assert_eq!(
                kept.first_name.as_deref(),
                Some("root"),
                "a refused change keeps the profile too"
            );
            assert!(events(&db, &t).await.is_empty(), "refusals record nothing");
            // Once the other admin can sign in, root may go.
            passkey(&db, &t, &other, "other-key").await;
            update(&ctx, &root, &input(json!({ "disabled": true })), &NOWHERE)
                .await
                .unwrap();
            assert_eq!(events(&db, &t).await, ["user_disabled"]);
        });
    }

    #[test]
    fn admins_cannot_delete_themselves_and_a_delete_takes_everything_of_the_user() {
        let db = db();
        run(async {
            let (t, root) = tenant_with_root(&db).await;
            let ctx = as_admin(&db, &t, &root);
            let err = delete(&ctx, &root, &NOWHERE).await.unwrap_err();
            assert!(
                matches!(err, Error::Conflict(ref m) if m.contains("your own")),
                "{err:?}"
            );
            let bob = user(&db, &t, "bob", false).await;
            passkey(&db, &t, &bob, "bob-key").await;
            delete(&ctx, &bob, &NOWHERE).await.unwrap();
            assert!(matches!(get(&ctx, &bob).await, Err(Error::NotFound(_))));
            assert!(passkeys::list_for_user(&db, &t, &bob)
                .await
                .unwrap()
                .is_empty());
            assert!(matches!(
                delete(&ctx, &bob, &NOWHERE).await,
                Err(Error::NotFound(_))
            ));
        });
    }

    #[test]
    fn passkeys_groups_claims_and_sessions_of_a_user() {
        let db = db();
        run(async {
            let (t, root) = tenant_with_root(&db).await;
            let ctx = key(&db, &t);
            let err = delete_passkey(&ctx, &root, "root-key").await.unwrap_err();
            assert!(
                matches!(err, Error::Conflict(_)),
                "the last admin's last passkey stays: {err:?}"
            );
            assert!(matches!(
                delete_passkey(&ctx, &root, "nope").await,
                Err(Error::NotFound(_))
            ));
            let claims = json!({ "team": "sre" }).as_object().unwrap().clone();
            assert_eq!(
                set_custom_claims(&ctx, &root, claims.clone())
                    .await
                    .unwrap(),
                claims
            );
            assert_eq!(
                get(&ctx, &root).await.unwrap().user.custom_claims,
                json!({ "team": "sre" })
            );
            let too_many: Vec<String> = (0..=MAX_GROUPS).map(|i| i.to_string()).collect();
            let err = set_groups(&ctx, &root, &too_many).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Invalid {
                        field: "group_ids",
                        ..
                    }
                ),
                "{err:?}"
            );
            let err = set_groups(&ctx, &root, &["no-such-group".into()])
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
            assert!(set_groups(&ctx, &root, &[]).await.unwrap().is_empty());
            assert!(sessions(&ctx, &root).await.unwrap().is_empty());
            sign_out_everywhere(&ctx, &root, &NOWHERE).await.unwrap();
            assert!(matches!(
                sign_out_everywhere(&ctx, "ghost", &NOWHERE).await,
                Err(Error::NotFound(_))
            ));
        });
    }

    #[test]
    fn one_time_links_have_bounded_lifetimes_and_name_their_creator() {
        let db = db();
        run(async {
            let (t, root) = tenant_with_root(&db).await;
            let ctx = key(&db, &t);
            let link = create_login_link(&ctx, "https://acme.id.test", &root, None)
                .await
                .unwrap();
            assert_eq!(
                link.url,
                format!("https://acme.id.test/login/code/{}", link.token)
            );
            assert_eq!(link.expires_at, ctx.now + 3600);
            let err = create_login_link(&ctx, "https://acme.id.test", &root, Some(7 * 24 * 60 + 1))
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Invalid {
                        field: "expires_in_minutes",
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(matches!(
                create_login_link(&ctx, "x", "ghost", None).await,
                Err(Error::NotFound(_))
            ));
            let five_minutes = InvitationInput {
                expires_in_minutes: Some(5),
                ..InvitationInput::default()
            };
            let invite = create_invite(&ctx, "https://acme.id.test", &five_minutes)
                .await
                .unwrap()
                .link;
            assert_eq!(
                invite.url,
                format!("https://acme.id.test/setup/{}", invite.token)
            );
            assert_eq!(invite.expires_at, ctx.now + 300);
            assert_ne!(invite.token, link.token);
            assert_eq!(
                events(&db, &t).await,
                ["invite_created", "one_time_link_created"]
            );
        });
    }

    /// An admin emails a one-time link and an invitation: a real server on loopback receives
    /// both with their links; a user without an address is refused naming the field.
    #[test]
    fn an_admin_emails_a_sign_in_link_and_an_invitation() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", true).await;
            let ctx = as_admin(&db, &t.id, &ada);
            let parse = |raw: String| {
                let parsed = mail_parser::MessageParser::default()
                    .parse(raw.as_bytes())
                    .unwrap();
                (
                    parsed
                        .to()
                        .unwrap()
                        .first()
                        .unwrap()
                        .address()
                        .unwrap()
                        .to_string(),
                    parsed.subject().unwrap().to_string(),
                    parsed.body_text(0).unwrap().to_string(),
                )
            };

            let (port, server) = crate::testing::mail::loopback_server();
            let post = crate::testing::mail::post(port);
            let emailed = email_login_link(&ctx, &post, "https://acme.id.test", &ada, None)
                .await
                .unwrap();
            assert!(emailed.email.sent, "{:?}", emailed.email);
            let (to, subject, text) = parse(server.join().unwrap());
            assert_eq!(to, "ada@example.com");
            assert!(subject.contains("sign-in link"), "{subject}");
            assert!(text.contains(&emailed.link.url), "{text}");
            assert!(text.contains("1 hour"), "{text}");

            let (port, server) = crate::testing::mail::loopback_server();
            let post = crate::testing::mail::post(port);
            let input = InvitationInput {
                email: Some("new@example.com".into()),
                send_email: true,
                ..InvitationInput::default()
            };
            let mut issued = create_invite(&ctx, "https://acme.id.test", &input)
                .await
                .unwrap();
            email_invite(&ctx, &post, "https://acme.id.test", &mut issued)
                .await
                .unwrap();
            assert!(issued.email.as_ref().unwrap().sent);
            let (to, subject, text) = parse(server.join().unwrap());
            assert_eq!(to, "new@example.com");
            assert!(subject.contains("invited"), "{subject}");
            assert!(text.contains(&issued.link.url));
            assert!(text.contains("7 days"), "{text}");

            // Sending needs an address.
            let no_address = InvitationInput {
                send_email: true,
                ..InvitationInput::default()
            };
            assert!(matches!(
                create_invite(&ctx, "x", &no_address).await,
                Err(Error::Invalid { field: "email", .. })
            ));
            let sent: Vec<_> = events(&db, &t.id)
                .await
                .into_iter()
                .filter(|e| e.starts_with("email_"))
                .collect();
            assert_eq!(sent, ["email_sent", "email_sent"]);
        });
    }
}
