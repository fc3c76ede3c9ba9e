//! Users, their groups and their passkeys in D1.

use super::backchannel::{targets_from, targets_statement, Ending, LogoutTarget};
use super::db::{Db, Statement};
use crate::error::Result;
use crate::params;

crate::from_row! {
    /// A user row (booleans read from SQLite's 0/1).
    #[derive(Debug, Clone)]
    pub struct UserRow {
        pub id: String,
        pub username: String,
        pub email: Option<String>,
        pub email_verified: bool,
        pub first_name: Option<String>,
        pub last_name: Option<String>,
        pub display_name: Option<String>,
        pub picture: Option<String>,
        pub is_admin: bool,
        pub disabled: bool,
        pub custom_claims: serde_json::Map<String, serde_json::Value>,
        pub created_at: i64,
        /// They asked to be mailed when they sign in from a browser new to them.
        pub sign_in_notices: bool,
    }
}

impl UserRow {
    /// The name shown in the UI and the `name` claim.
    pub fn full_name(&self) -> String {
        self.claims(&[]).name()
    }
}

crate::from_row! {
    /// A group the user belongs to, with its custom claims (JSON object).
    #[derive(Debug, Clone)]
    pub struct GroupClaimsRow {
        pub name: String,
        pub custom_claims: serde_json::Map<String, serde_json::Value>,
    }
}

impl UserRow {
    /// The protocol's view of the user: group custom claims first, the user's own win.
    pub fn claims(&self, groups: &[GroupClaimsRow]) -> crate::oidc::claims::UserClaims {
        let mut custom = serde_json::Map::new();
        for claims in groups
            .iter()
            .map(|g| &g.custom_claims)
            .chain(std::iter::once(&self.custom_claims))
        {
            custom.extend(claims.clone());
        }
        crate::oidc::claims::UserClaims {
            sub: self.id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            email_verified: self.email_verified,
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            display_name: self.display_name.clone(),
            picture: self.picture.clone(),
            locale: None,
            groups: groups.iter().map(|g| g.name.clone()).collect(),
            custom,
        }
    }
}

pub const USER_COLUMNS: &str = "id, username, email, email_verified, first_name, last_name, \
    display_name, picture, is_admin, disabled, custom_claims, created_at, sign_in_notices";

pub async fn username_or_email_taken(
    db: &Db,
    tenant_id: &str,
    username: &str,
    email: Option<&str>,
) -> Result<bool> {
    crate::from_row! {
        struct Count {
            n: i64,
        }
    }
    Ok(db
        .first::<Count>(
            "SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?1 AND (username = ?2 OR email = ?3)",
            params![tenant_id, username, email],
        )
        .await?
        .is_some_and(|c| c.n > 0))
}

/// Refuses a username or email another user of the tenant holds (a friendly field error; the
/// UNIQUE constraints still decide a race).
async fn check_profile_free(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    change: &crate::account::ProfileChange,
) -> Result<()> {
    if change.username.is_none() && change.email.is_none() {
        return Ok(());
    }
    crate::from_row! {
        struct Taken {
            field: String,
        }
    }
    let taken: Option<Taken> = db
        .first(
            "SELECT CASE WHEN username = ?3 THEN 'username' ELSE 'email' END AS field FROM users \
             WHERE tenant_id = ?1 AND id != ?2 AND (username = ?3 OR email = ?4) LIMIT 1",
            params![
                tenant_id,
                user_id,
                change.username.clone(),
                change.email.clone()
            ],
        )
        .await?;
    match taken {
        None => Ok(()),
        Some(t) => {
            let field = if t.field == "username" {
                "username"
            } else {
                "email"
            };
            Err(crate::error::Error::Invalid {
                field,
                message: format!("That {field} is already in use."),
            })
        }
    }
}

/// The UPDATE of a profile change, applied only when `guard` (SQL over ?1 tenant, ?2 user,
/// ?12/?13 the admin flags asked for) holds.
fn profile_statement(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    change: &crate::account::ProfileChange,
    now: i64,
    flags: Option<&crate::admin::user::AdminFlags>,
) -> Result<Statement> {
    // COALESCE keeps fields not in the change; the *_set flags distinguish "clear" from "keep".
    db.statement(
        &format!(
            "UPDATE users SET \
               first_name = CASE WHEN ?3 THEN ?4 ELSE first_name END, \
               last_name = CASE WHEN ?5 THEN ?6 ELSE last_name END, \
               display_name = CASE WHEN ?7 THEN ?8 ELSE display_name END, \
               username = COALESCE(?9, username), \
               email = COALESCE(?10, email), \
               email_verified = CASE WHEN ?10 IS NOT NULL AND ?10 != email THEN 0 ELSE email_verified END, \
               updated_at = ?11 \
             WHERE tenant_id = ?1 AND id = ?2 AND {}",
            keeps_an_admin("?12", "?13")
        ),
        params![
            tenant_id,
            user_id,
            change.first_name.is_some(),
            change.first_name.clone().flatten(),
            change.last_name.is_some(),
            change.last_name.clone().flatten(),
            change.display_name.is_some(),
            change.display_name.clone().flatten(),
            change.username.clone(),
            change.email.clone(),
            now,
            flags.and_then(|f| f.is_admin),
            flags.and_then(|f| f.disabled)
        ],
    )
}

const TAKEN: &str = "That username or email address is already in use.";

/// A person's own profile change (account page); returns the user as it now is (`None` when
/// the account is gone). A username or email another account holds is a field error on that
/// field (a race lost to the UNIQUE constraints is a conflict).
pub async fn update_profile(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    change: &crate::account::ProfileChange,
    now: i64,
) -> Result<Option<UserRow>> {
    check_profile_free(db, tenant_id, user_id, change).await?;
    let results = db
        .batch(vec![
            profile_statement(db, tenant_id, user_id, change, now, None)?,
            find_statement(db, tenant_id, user_id)?,
        ])
        .await
        .map_err(super::db::unique_violation(TAKEN))?;
    super::db::first_row(&results[1])
}

fn find_statement(db: &Db, tenant_id: &str, user_id: &str) -> Result<Statement> {
    db.statement(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND id = ?2"),
        params![tenant_id, user_id],
    )
}

pub async fn find(db: &Db, tenant_id: &str, user_id: &str) -> Result<Option<UserRow>> {
    db.first(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND id = ?2"),
        params![tenant_id, user_id],
    )
    .await
}

/// A page of a tenant's users (search over username, email and names) and the total count.
pub async fn list_page(
    db: &Db,
    tenant_id: &str,
    search: Option<&str>,
    page: &crate::admin::paging::Page,
) -> Result<(Vec<UserRow>, i64)> {
    let filter = format!(
        "tenant_id = ?1 AND {}",
        super::db::contains_search(
            &[
                "username",
                "email",
                "first_name",
                "last_name",
                "display_name"
            ],
            2
        )
    );
    db.page(
        &format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {filter} ORDER BY username LIMIT ?3 OFFSET ?4"
        ),
        &format!("SELECT COUNT(*) AS n FROM users WHERE {filter}"),
        params![tenant_id, super::db::search_text(search)],
        page,
    )
    .await
}

/// Creates a user without a passkey (an admin then sends a one-time login link, with which the
/// user signs in and registers one).
pub async fn create(
    db: &Db,
    tenant_id: &str,
    id: &str,
    profile: &crate::account::NewProfile,
    flags: &crate::admin::user::AdminFlags,
    now: i64,
    audit: Statement,
) -> Result<()> {
    let claims = flags.custom_claims.clone().unwrap_or_default();
    db.run_recorded(
        "INSERT INTO users (id, tenant_id, username, email, email_verified, first_name, last_name, \
         is_admin, disabled, custom_claims, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        params![
            id,
            tenant_id,
            profile.username.clone(),
            profile.email.clone(),
            flags.email_verified.unwrap_or(false),
            profile.first_name.clone(),
            profile.last_name.clone(),
            flags.is_admin.unwrap_or(false),
            flags.disabled.unwrap_or(false),
            serde_json::Value::Object(claims).to_string(),
            now
        ],
        audit,
    )
    .await
    .map_err(super::db::unique_violation(
        "That username or email address is already in use.",
    ))?;
    Ok(())
}

/// An account as a sign-up ceremony creates it.
#[derive(Debug, Clone, Copy)]
pub struct NewSignup<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: Option<&'a str>,
    pub is_admin: bool,
    /// The hash of the one-time link (invite or first admin) the sign-up spends; `None` for
    /// open sign-up.
    pub link_hash: Option<&'a str>,
    /// The registration challenge it answered (spent with it).
    pub challenge: super::spent::Spend<'a>,
}

/// What a sign-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUp {
    /// The account, its passkey and its session exist, and the link is spent.
    Created,
    /// The link had expired or was already used (for instance by a racing sign-up): nothing
    /// was written.
    LinkSpent,
}

/// Creates an account from a sign-up: the user, the spending of its link, its first passkey,
/// its session and the audit entry, as one batch (one transaction on D1's single writer).
///
/// The user row is inserted only while the link is still unused and unexpired, so of two
/// sign-ups racing for one link exactly one creates an account; the loser's passkey and
/// session inserts find no user and write nothing. `audit` must be written only if the new
/// `session` was created ([`super::audit::When::SessionCreated`] with its id hash), so a
/// sign-up that lost the race leaves no trace of an account. A username, email address or
/// passkey already taken fails the whole batch: nothing is written and the link stays usable.
pub async fn sign_up(
    db: &Db,
    tenant_id: &str,
    account: &NewSignup<'_>,
    passkey: &super::passkeys::NewPasskey<'_>,
    session: &super::sessions::NewSession,
    audit: Statement,
    now: i64,
) -> Result<SignUp> {
    // The challenge is spent first, so a replay fails as one before any other constraint.
    let statements = vec![
        super::spent::statement(db, tenant_id, account.challenge)?,
        db.statement(
            "INSERT INTO users (id, tenant_id, username, email, email_verified, first_name, last_name, is_admin, created_at, updated_at) \
             SELECT ?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?8 WHERE ?9 IS NULL OR EXISTS (SELECT 1 FROM one_time_tokens \
             WHERE token_hash = ?9 AND tenant_id = ?2 AND used_at IS NULL AND uses < max_uses AND expires_at > ?8)",
            params![
                account.id,
                tenant_id,
                account.username,
                account.email,
                account.first_name,
                account.last_name,
                account.is_admin,
                now,
                account.link_hash
            ],
        )?,
        super::invitations::join_groups_statement(
            db,
            tenant_id,
            account.id,
            account.link_hash,
        )?,
        // One use spent; the last one marks the link used (a single-use link also names the
        // account it made). Only after this sign-up's user exists, so a lost race spends none.
        db.statement(
            "UPDATE one_time_tokens SET uses = uses + 1, \
             used_at = CASE WHEN uses + 1 >= max_uses THEN ?3 ELSE NULL END, \
             user_id = CASE WHEN max_uses = 1 THEN ?4 ELSE user_id END \
             WHERE token_hash = ?1 AND tenant_id = ?2 AND used_at IS NULL \
             AND EXISTS (SELECT 1 FROM users WHERE id = ?4 AND tenant_id = ?2)",
            params![account.link_hash, tenant_id, now, account.id],
        )?,
        super::passkeys::insert_statement(db, tenant_id, account.id, passkey, now)?,
        super::sessions::insert_statement(db, tenant_id, session)?,
        audit,
    ];
    let results = db.batch(statements).await.map_err(|e| {
        // A replayed challenge is the caller's to explain; other clashes are taken names.
        if super::spent::replayed(&e) {
            e
        } else {
            super::db::unique_violation(
                "That username, email address or passkey is already in use.",
            )(e)
        }
    })?;
    Ok(if super::db::changes(&results[1]) == 1 {
        SignUp::Created
    } else {
        SignUp::LinkSpent
    })
}

/// Whether taking admin rights from (or disabling, or deleting) this user would leave the
/// tenant without an active admin who can sign in: then nobody could run it any more.
pub async fn is_last_active_admin(db: &Db, tenant_id: &str, user_id: &str) -> Result<bool> {
    crate::from_row! {
        struct Last {
            last: i64,
        }
    }
    let row: Option<Last> = db
        .first(
            &format!(
                "SELECT (is_admin = 1 AND disabled = 0 AND NOT {ANOTHER_ADMIN_WHO_CAN_SIGN_IN}) AS last \
                 FROM users WHERE tenant_id = ?1 AND id = ?2"
            ),
            params![tenant_id, user_id],
        )
        .await?;
    Ok(row.is_some_and(|r| r.last == 1))
}

/// True when the tenant (?1) has an admin other than the user ?2 who can sign in: enabled, and
/// holding a passkey (this is a passkey-only provider; an admin created through the API has none
/// until they use a one-time link and add one). The one rule behind "the last admin stays",
/// shared by the check above and the guarded UPDATE below. Counting admins without a passkey
/// would let the only admin who can sign in be demoted, disabled or deleted.
const ANOTHER_ADMIN_WHO_CAN_SIGN_IN: &str = "EXISTS (SELECT 1 FROM users o WHERE o.tenant_id = ?1 \
     AND o.id != ?2 AND o.is_admin = 1 AND o.disabled = 0 \
     AND EXISTS (SELECT 1 FROM passkeys p WHERE p.tenant_id = ?1 AND p.user_id = o.id))";

/// The user ?2 of tenant ?1 is not the last enabled admin who can sign in (see
/// [`ANOTHER_ADMIN_WHO_CAN_SIGN_IN`]); guards deletes inside their own statements.
pub(crate) const NOT_THE_LAST_ADMIN: &str =
    "NOT EXISTS (SELECT 1 FROM users l WHERE l.tenant_id = ?1 \
     AND l.id = ?2 AND l.is_admin = 1 AND l.disabled = 0 AND NOT EXISTS (SELECT 1 FROM users o \
     WHERE o.tenant_id = ?1 AND o.id != ?2 AND o.is_admin = 1 AND o.disabled = 0 \
     AND EXISTS (SELECT 1 FROM passkeys p WHERE p.tenant_id = ?1 AND p.user_id = o.id)))";

/// What [`update_flags`] did.
#[derive(Debug)]
pub struct FlagsUpdate {
    /// False when the change was refused (see [`update_flags`]).
    pub applied: bool,
    /// The clients to send back-channel logout tokens to: those that held live grants of a user
    /// this update disabled.
    pub logouts: Vec<LogoutTarget>,
}

/// Sets the admin-only flags and claims given; not applied when the change was refused because
/// it would leave the tenant without an active admin who can sign in. That rule is part of the
/// UPDATE itself, so two admins demoting each other at the same moment cannot both succeed
/// (D1 has one writer).
/// Disabling a user also ends their sessions and revokes every token issued to them, in the
/// same transaction and only if the user did end up disabled.
pub async fn update_flags(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    flags: &crate::admin::user::AdminFlags,
    profile: Option<&crate::account::ProfileChange>,
    now: i64,
    audit: Statement,
) -> Result<FlagsUpdate> {
    if let Some(change) = profile {
        check_profile_free(db, tenant_id, user_id, change).await?;
    }
    let claims = flags
        .custom_claims
        .clone()
        .map(|c| serde_json::Value::Object(c).to_string());
    // The profile change first (an explicit email_verified below then wins over the reset a new
    // email causes), both under the same last-admin rule, evaluated on the same row: both or
    // neither.
    let mut statements = Vec::new();
    if let Some(change) = profile {
        statements.push(profile_statement(
            db,
            tenant_id,
            user_id,
            change,
            now,
            Some(flags),
        )?);
    }
    let flags_at = statements.len();
    statements.push(db.statement(
        &format!(
            "UPDATE users SET \
           email_verified = COALESCE(?3, email_verified), \
           is_admin = COALESCE(?4, is_admin), \
           disabled = COALESCE(?5, disabled), \
           custom_claims = COALESCE(?6, custom_claims), \
           updated_at = ?7 \
         WHERE tenant_id = ?1 AND id = ?2 AND {}",
            keeps_an_admin("?4", "?5")
        ),
        params![
            tenant_id,
            user_id,
            flags.email_verified,
            flags.is_admin,
            flags.disabled,
            claims,
            now
        ],
    )?);
    statements.push(audit);
    let targets_at = statements.len();
    if flags.disabled == Some(true) {
        statements.extend(sign_out_statements(
            db,
            tenant_id,
            user_id,
            now,
            SignOut::IfDisabled,
        )?);
    }
    let results = db
        .batch(statements)
        .await
        .map_err(super::db::unique_violation(TAKEN))?;
    Ok(FlagsUpdate {
        applied: super::db::changes(&results[flags_at]) == 1,
        logouts: match results.get(targets_at) {
            Some(targets) if flags.disabled == Some(true) => targets_from(targets)?,
            _ => vec![],
        },
    })
}

/// The last-admin rule for an update of user ?2 of tenant ?1 asking for `is_admin`/`disabled`
/// (parameter names): the change may not take away the tenant's last enabled admin who can
/// sign in.
fn keeps_an_admin(is_admin: &str, disabled: &str) -> String {
    format!(
        "(NOT (is_admin = 1 AND disabled = 0 AND (COALESCE({is_admin}, 1) = 0 OR COALESCE({disabled}, 0) = 1)) \
         OR {ANOTHER_ADMIN_WHO_CAN_SIGN_IN})"
    )
}

/// When [`sign_out_statements`] applies: always (an admin's "sign out everywhere"), or only if
/// the user is disabled when the statements run (they ride in a batch after the UPDATE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignOut {
    Always,
    IfDisabled,
}

/// Ends every session of a user and revokes every grant (and so every token) issued to them.
/// The first statement reads the clients to send back-channel logout tokens to (before the
/// grants are revoked; [`targets_from`] reads its result).
fn sign_out_statements(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    now: i64,
    when: SignOut,
) -> Result<Vec<super::db::Statement>> {
    let condition = match when {
        SignOut::Always => "EXISTS (SELECT 1 FROM users WHERE id = ?2 AND tenant_id = ?1)",
        SignOut::IfDisabled => {
            "EXISTS (SELECT 1 FROM users WHERE id = ?2 AND tenant_id = ?1 AND disabled = 1)"
        }
    };
    Ok(vec![
        targets_statement(db, tenant_id, Ending::User { user_id, condition }, now)?,
        db.statement(
            &format!("DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2 AND {condition}"),
            params![tenant_id, user_id],
        )?,
        db.statement(
            &format!(
                "UPDATE grants SET revoked_at = ?3 WHERE tenant_id = ?1 AND user_id = ?2 \
                 AND revoked_at IS NULL AND {condition}"
            ),
            params![tenant_id, user_id, now],
        )?,
        db.statement(
            &format!(
                "DELETE FROM authorization_codes WHERE tenant_id = ?1 AND user_id = ?2 AND {condition}"
            ),
            params![tenant_id, user_id],
        )?,
    ])
}

/// Signs a user out everywhere and revokes everything issued to them, with `audit` (written
/// only while the user exists, e.g. `When::RowExists`), in one batch. Returns the clients to
/// send back-channel logout tokens to.
pub async fn sign_out_everywhere(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    now: i64,
    audit: Statement,
) -> Result<Vec<LogoutTarget>> {
    let mut statements = sign_out_statements(db, tenant_id, user_id, now, SignOut::Always)?;
    statements.push(audit);
    let results = db.batch(statements).await?;
    targets_from(&results[0])
}

crate::from_row! {
    /// A user's live sessions, newest first, as the admin API lists them.
    #[derive(Debug, Clone, serde::Serialize)]
    pub struct SessionView {
        pub created_at: i64,
        pub last_seen_at: i64,
        pub expires_at: i64,
        pub ip: Option<String>,
        pub user_agent: Option<String>,
    }
}

pub async fn sessions_of(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    now: i64,
) -> Result<Vec<SessionView>> {
    db.all(
        "SELECT created_at, last_seen_at, expires_at, ip, user_agent FROM sessions \
         WHERE tenant_id = ?1 AND user_id = ?2 AND expires_at > ?3 ORDER BY created_at DESC LIMIT 100",
        params![tenant_id, user_id, now],
    )
    .await
}

/// Deletes a user with everything that is theirs, in one transaction; false when no such user
/// is in the tenant. Passkeys, sessions, consents, links and memberships go by the schema's
/// `ON DELETE CASCADE` (as a tenant's rows do); grants and codes name the user without a foreign
/// key, so they are deleted here, and a grant's access and refresh tokens cascade from it.
/// `audit` (written only if the user row went) joins the same batch. Returns `None` when
/// nothing was deleted, else the clients to send back-channel logout tokens to.
///
/// Every statement is guarded by the last-admin rule, so two admins deleting each other (or the
/// last two admins who can sign in) at the same moment cannot both succeed: D1 has one writer,
/// and the second batch sees the first one's result.
pub async fn delete(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    now: i64,
    audit: Statement,
) -> Result<Option<Vec<LogoutTarget>>> {
    let owned = |table: &str| {
        db.statement(
            &format!("DELETE FROM {table} WHERE tenant_id = ?1 AND user_id = ?2 AND {NOT_THE_LAST_ADMIN}"),
            params![tenant_id, user_id],
        )
    };
    let statements = vec![
        targets_statement(
            db,
            tenant_id,
            Ending::User {
                user_id,
                condition: NOT_THE_LAST_ADMIN,
            },
            now,
        )?,
        owned("authorization_codes")?,
        owned("grants")?,
        db.statement(
            &format!("DELETE FROM users WHERE tenant_id = ?1 AND id = ?2 AND {NOT_THE_LAST_ADMIN} RETURNING id"),
            params![tenant_id, user_id],
        )?,
        audit,
    ];
    let results = db.batch(statements).await?;
    // RETURNING, not meta.changes: D1 reports 0 changes for a delete that cascaded.
    if super::db::first_row::<serde_json::Value>(&results[3])?.is_none() {
        return Ok(None);
    }
    Ok(Some(targets_from(&results[0])?))
}

crate::from_row! {
    /// The groups a user belongs to (id, name).
    #[derive(Debug, Clone, serde::Serialize)]
    pub struct Membership {
        pub id: String,
        pub name: String,
        pub friendly_name: String,
    }
}

pub async fn groups_of(db: &Db, tenant_id: &str, user_id: &str) -> Result<Vec<Membership>> {
    db.all(
        "SELECT g.id, g.name, g.friendly_name FROM user_groups g JOIN user_group_members m ON m.group_id = g.id \
         WHERE g.tenant_id = ?1 AND m.user_id = ?2 ORDER BY g.name",
        params![tenant_id, user_id],
    )
    .await
}

/// Replaces the groups of a user with these (all of this tenant), in one transaction.
pub async fn set_groups(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    group_ids: &[String],
    audit: Statement,
) -> Result<()> {
    if !db.all_exist("user_groups", tenant_id, group_ids).await? {
        return Err(crate::error::Error::Invalid {
            field: "group_ids",
            message: "some groups do not exist".into(),
        });
    }
    let in_tenant = "EXISTS (SELECT 1 FROM users WHERE id = ?1 AND tenant_id = ?2)";
    db.batch(vec![
        db.statement(
            &format!("DELETE FROM user_group_members WHERE user_id = ?1 AND {in_tenant}"),
            params![user_id, tenant_id],
        )?,
        db.statement(
            &format!(
                "INSERT INTO user_group_members (group_id, user_id) SELECT g.id, ?1 FROM user_groups g \
                 WHERE g.tenant_id = ?2 AND g.id IN (SELECT value FROM json_each(?3)) AND {in_tenant}"
            ),
            params![user_id, tenant_id, serde_json::to_string(group_ids)?],
        )?,
        // The caller's entry, recorded only when the user exists (`When::RowExists`).
        audit,
    ])
    .await?;
    Ok(())
}
