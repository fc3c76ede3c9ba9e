//! Single-use WebAuthn challenges and one-time links.
//!
//! Both are consumed with one atomic statement (`DELETE ... RETURNING` / `UPDATE ... WHERE
//! used_at IS NULL RETURNING`) on D1's single primary, so a challenge or link works exactly once
//! even under concurrent use. KV would be wrong here: it is eventually consistent.

use serde::Deserialize;

use super::db::{first_row, Db, QueryResult, Statement};
use super::passkeys::PasskeyRow;
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

/// Which ceremony a challenge was issued for (the `purpose` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengePurpose {
    /// Sign-in (`navigator.credentials.get`).
    Authenticate,
    /// Creating a passkey (`navigator.credentials.create`): sign-up, or adding one.
    Register,
}

impl ChallengePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengePurpose::Authenticate => "authenticate",
            ChallengePurpose::Register => "register",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Authenticate, Self::Register]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A challenge as issued, taken back once.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub purpose: ChallengePurpose,
    /// The challenge itself, base64url.
    pub challenge: String,
    /// The account a registration is for.
    pub user_id: Option<String>,
    /// What completing the ceremony does (the caller's JSON).
    pub context: String,
}

#[derive(Deserialize)]
struct ChallengeRow {
    purpose: String,
    challenge: String,
    user_id: Option<String>,
    context: String,
}

impl TryFrom<ChallengeRow> for Challenge {
    type Error = crate::error::Error;

    fn try_from(row: ChallengeRow) -> Result<Self> {
        Ok(Challenge {
            purpose: ChallengePurpose::parse(&row.purpose).ok_or_else(|| {
                crate::error::Error::Internal(format!("challenge purpose {}", row.purpose))
            })?,
            challenge: row.challenge,
            user_id: row.user_id,
            context: row.context,
        })
    }
}

/// Stores a challenge; the row id is the hash of the challenge itself (the browser echoes the
/// challenge in clientDataJSON, so no extra handle is needed to find it).
pub async fn put_challenge(
    db: &Db,
    tenant_id: &str,
    purpose: ChallengePurpose,
    challenge_b64: &str,
    user_id: Option<&str>,
    context: &str,
    expires_at: i64,
) -> Result<()> {
    db.run(
        "INSERT INTO webauthn_challenges (id, tenant_id, purpose, challenge, user_id, context, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![secret_hash(challenge_b64), tenant_id, purpose.as_str(), challenge_b64, user_id, context, expires_at],
    )
    .await?;
    Ok(())
}

/// Consumes a challenge (whatever the outcome of the verification that follows).
fn take_challenge_statement(
    db: &Db,
    tenant_id: &str,
    challenge_b64: &str,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "DELETE FROM webauthn_challenges WHERE id = ?1 AND tenant_id = ?2 AND expires_at > ?3 \
         RETURNING purpose, challenge, user_id, context",
        params![secret_hash(challenge_b64), tenant_id, now],
    )
}

fn taken(result: &QueryResult) -> Result<Option<Challenge>> {
    first_row::<ChallengeRow>(result)?
        .map(Challenge::try_from)
        .transpose()
}

/// Takes (deletes and returns) the unexpired challenge of this tenant that a response echoes:
/// a challenge works once, even when two responses race for it.
pub async fn take_challenge(
    db: &Db,
    tenant_id: &str,
    challenge_b64: &str,
    now: i64,
) -> Result<Option<Challenge>> {
    let results = db
        .batch(vec![take_challenge_statement(
            db,
            tenant_id,
            challenge_b64,
            now,
        )?])
        .await?;
    taken(&results[0])
}

/// [`take_challenge`] and, in the same round trip, the tenant's passkey a sign-in response
/// names.
pub async fn take_challenge_for_passkey(
    db: &Db,
    tenant_id: &str,
    challenge_b64: &str,
    credential_id: &str,
    now: i64,
) -> Result<(Option<Challenge>, Option<PasskeyRow>)> {
    let results = db
        .batch(vec![
            take_challenge_statement(db, tenant_id, challenge_b64, now)?,
            super::passkeys::find_statement(db, tenant_id, credential_id)?,
        ])
        .await?;
    Ok((taken(&results[0])?, first_row(&results[1])?))
}

#[derive(Debug, Clone, Deserialize)]
pub struct OneTimeTokenRow {
    pub purpose: String,
    pub user_id: Option<String>,
    pub details: String,
    pub expires_at: i64,
}

/// A one-time token that is still valid, without consuming it (to render the page).
pub async fn peek_token(
    db: &Db,
    tenant_id: &str,
    token: &str,
    now: i64,
) -> Result<Option<OneTimeTokenRow>> {
    db.first(
        "SELECT purpose, user_id, details, expires_at FROM one_time_tokens \
         WHERE token_hash = ?1 AND tenant_id = ?2 AND used_at IS NULL AND expires_at > ?3",
        params![secret_hash(token), tenant_id, now],
    )
    .await
}

/// What a one-time link does (the `purpose` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Creates the tenant's first (admin) account.
    FirstAdmin,
    /// Creates an ordinary account (an admin's invitation).
    Invite,
    /// Signs an existing user in once (recovery when passkeys are lost).
    Login,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::FirstAdmin => "first_admin",
            LinkPurpose::Invite => "invite",
            LinkPurpose::Login => "login",
        }
    }
}

/// A one-time link about to be created.
pub struct NewLink<'a> {
    pub purpose: LinkPurpose,
    /// The user a login link signs in (`None` for invitations).
    pub user_id: Option<&'a str>,
    pub created_by: &'a str,
    pub expires_at: i64,
}

/// Creates a one-time link and returns its secret token (only the hash is stored); `audit`
/// joins the same batch.
pub async fn create_link(
    db: &Db,
    tenant_id: &str,
    link: &NewLink<'_>,
    now: i64,
    audit: Statement,
) -> Result<String> {
    let token = crate::crypto::random::token();
    let NewLink {
        purpose,
        user_id,
        created_by,
        expires_at,
    } = *link;
    db.run_recorded(
        "INSERT INTO one_time_tokens (token_hash, tenant_id, purpose, user_id, created_by, created_at, expires_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 \
         WHERE ?4 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ?4 AND tenant_id = ?2)",
        params![secret_hash(&token), tenant_id, purpose.as_str(), user_id, created_by, now, expires_at],
        audit,
    )
    .await?;
    Ok(token)
}

/// Consumes a one-time login link; returns the user it signs in (enabled users only).
pub async fn consume_login_link(
    db: &Db,
    tenant_id: &str,
    token: &str,
    now: i64,
) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        user_id: String,
    }
    let row: Option<Row> = db
        .first(
            "UPDATE one_time_tokens SET used_at = ?3 WHERE token_hash = ?1 AND tenant_id = ?2 \
             AND purpose = 'login' AND used_at IS NULL AND expires_at > ?3 \
             AND EXISTS (SELECT 1 FROM users u WHERE u.id = one_time_tokens.user_id AND u.disabled = 0) \
             RETURNING user_id",
            params![secret_hash(token), tenant_id, now],
        )
        .await?;
    Ok(row.map(|r| r.user_id))
}
