//! Browser sessions, stored server-side so they can be listed and revoked. The cookie holds a
//! random 256-bit id; D1 holds only its hash.

use super::codes::NewCode;
use super::db::{rows, Db, Param, Statement};
use super::email_codes::CodeAttempt;
use super::other_device::OtherDeviceUse;
use super::recovery_codes::RecoveryCodeUse;
use super::spent::Spend;
use super::users::{UserRow, USER_COLUMNS};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::oidc::amr::SignInMethod;
use crate::params;

/// A live session and its (enabled) user.
#[derive(Debug, Clone)]
pub struct SessionWithUser {
    pub id_hash: String,
    pub auth_time: i64,
    pub expires_at: i64,
    pub user: UserRow,
}

crate::from_row! {
    struct Row {
        id_hash: String,
        auth_time: i64,
        expires_at: i64,
    }
}

/// A session about to be created. The cookie carries `id`; the database only its hash.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub method: SignInMethod,
    /// The hash of the browser it starts in (`known_browsers::hash` of its `eid_browser`), when
    /// known: the sign-in batch records it for a person with sign-in notices.
    pub browser_hash: Option<String>,
}

impl NewSession {
    /// The stored key of the session (what audit entries conditional on it name).
    pub fn id_hash(&self) -> String {
        secret_hash(&self.id)
    }

    /// This session, starting in the browser whose `eid_browser` id is `browser_id` (a
    /// well-formed id only; an empty or malformed one names no browser).
    pub fn in_browser(mut self, browser_id: &str) -> Self {
        self.browser_hash =
            (browser_id.len() == 43).then(|| super::known_browsers::hash(browser_id));
        self
    }
}

/// Inserts the session only while its user exists in the tenant and is enabled, so it can ride
/// in a batch after the user's own conditional insert (sign-up) and a disabled account gets none.
pub(crate) fn insert_statement(db: &Db, tenant_id: &str, s: &NewSession) -> Result<Statement> {
    insert_when(db, tenant_id, s, None, Vec::new())
}

/// The session insert, with `condition` (over parameters from ?9 on, `params`) added to the
/// user's; ?1 is the session's id hash, ?2 the tenant, ?3 the user.
fn insert_when(
    db: &Db,
    tenant_id: &str,
    s: &NewSession,
    condition: Option<String>,
    params: Vec<Param>,
) -> Result<Statement> {
    let extra = condition.map(|c| format!(" AND {c}")).unwrap_or_default();
    let mut all = params![
        s.id_hash(),
        tenant_id,
        s.user_id.as_str(),
        s.created_at,
        s.expires_at,
        s.ip.clone(),
        s.user_agent.clone(),
        s.method.amr_json()
    ];
    all.extend(params);
    db.statement(
        &format!(
            "INSERT INTO sessions (id_hash, tenant_id, user_id, auth_time, created_at, expires_at, last_seen_at, ip, user_agent, amr) \
             SELECT ?1, ?2, ?3, ?4, ?4, ?5, ?4, ?6, ?7, ?8 \
             WHERE EXISTS (SELECT 1 FROM users WHERE id = ?3 AND tenant_id = ?2 AND disabled = 0){extra}"
        ),
        all,
    )
}

/// [`insert_statement`] for a passkey sign-in: also only while the passkey is still the user's
/// with the public key the assertion was verified with, and its counter allows the new value
/// (both zero, or growing: a clone check, WebAuthn §6.1.1). The use case may have read the
/// passkey from a replica; this re-checks it on the primary, in the sign-in's own transaction.
fn insert_for_passkey_statement(
    db: &Db,
    tenant_id: &str,
    s: &NewSession,
    used: &PasskeyUse<'_>,
) -> Result<Statement> {
    insert_when(
        db,
        tenant_id,
        s,
        Some(
            "EXISTS (SELECT 1 FROM passkeys WHERE tenant_id = ?2 AND credential_id = ?9 AND user_id = ?3 \
             AND public_key = ?10 AND ((?11 = 0 AND sign_count = 0) OR ?11 > sign_count))"
                .to_string(),
        ),
        params![used.credential_id, used.public_key, used.sign_count],
    )
}

/// [`insert_statement`] for an email-code sign-in: also only if this sign-in's attempt consumed
/// the code (the statements of `email_codes::attempt_statements` run just before it).
fn insert_for_email_code_statement(
    db: &Db,
    tenant_id: &str,
    s: &NewSession,
    code: &CodeAttempt<'_>,
) -> Result<Statement> {
    insert_when(
        db,
        tenant_id,
        s,
        Some(super::email_codes::CONSUMED_FOR_THIS_SESSION.to_string()),
        params![code.id],
    )
}

/// [`insert_statement`] for a recovery-code sign-in: also only if the code was marked as used
/// by this very session earlier in the batch (`recovery_codes::use_statement`).
fn insert_for_recovery_code_statement(
    db: &Db,
    tenant_id: &str,
    s: &NewSession,
    used: RecoveryCodeUse<'_>,
) -> Result<Statement> {
    insert_when(
        db,
        tenant_id,
        s,
        Some(super::recovery_codes::used_by_session_condition(9)),
        params![used.code_hash],
    )
}

/// [`insert_statement`] for a sign-in approved on another device: also only if the approved
/// request was marked as used by this very session earlier in the batch.
fn insert_for_other_device_statement(
    db: &Db,
    tenant_id: &str,
    s: &NewSession,
    used: OtherDeviceUse<'_>,
) -> Result<Statement> {
    insert_when(
        db,
        tenant_id,
        s,
        Some(super::other_device::used_by_session_condition(9)),
        params![used.request_hash],
    )
}

/// What proves who is signing in, checked again inside the sign-in's batch.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// Checked before the batch (a one-time link consumed, a sign-up).
    Checked,
    Passkey(PasskeyUse<'a>),
    RecoveryCode(RecoveryCodeUse<'a>),
    OtherDevice(OtherDeviceUse<'a>),
    /// One try of an emailed code, counted and checked in the batch.
    EmailCode(CodeAttempt<'a>),
}

/// The passkey a sign-in was made with: its new counter and backup state.
#[derive(Debug, Clone, Copy)]
pub struct PasskeyUse<'a> {
    pub credential_id: &'a str,
    /// The public key the assertion was verified with (COSE, base64url, as stored).
    pub public_key: &'a str,
    pub sign_count: i64,
    pub backed_up: bool,
}

/// A sign-in about to be recorded.
pub struct SignIn<'a> {
    pub session: &'a NewSession,
    /// What it was made with, checked again in the batch: a passkey (counter, backup state,
    /// last use: recorded only if the session was created), a recovery code, an approval on
    /// another device or an emailed code (each used up only by the session it creates).
    pub proof: Proof<'a>,
    /// Audit entries conditional on the outcome (`audit::When::SessionCreated` or
    /// `SessionRefused` with [`NewSession::id_hash`]).
    pub recorded: Vec<Statement>,
    /// The challenge it answered: spent here, and a replay fails the whole batch.
    pub challenge: Option<Spend<'a>>,
    /// A code for the client whose parked request waited for this sign-in.
    pub code: Option<NewCode<'a>>,
}

impl<'a> SignIn<'a> {
    /// Just the session (and nothing else in its batch).
    pub fn plain(session: &'a NewSession) -> Self {
        Self {
            session,
            proof: Proof::Checked,
            recorded: Vec::new(),
            challenge: None,
            code: None,
        }
    }
}

/// What a sign-in batch did.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// False when the account is disabled or gone, or the passkey no longer signs it in: then
    /// only the refusal's entries are written.
    pub created: bool,
    /// The waiting client's code was issued (see `codes::issue_statements` for when not).
    pub code_issued: bool,
    /// The user, as the batch left them, when they have sign-in notices on and the session's
    /// browser was new to them: they are to be told (`usecase::sign_in_notice`).
    pub notify: Option<UserRow>,
}

/// Starts a session for an enabled user: one transaction with everything in [`SignIn`].
pub async fn create(db: &Db, tenant_id: &str, s: SignIn<'_>) -> Result<SignedIn> {
    // The challenge is spent first, so a replay fails as one before any other constraint.
    let mut statements = Vec::new();
    if let Some(challenge) = s.challenge {
        statements.push(super::spent::statement(db, tenant_id, challenge)?);
    }
    let (user_id, hash, now) = (
        &s.session.user_id,
        &s.session.id_hash(),
        s.session.created_at,
    );
    match s.proof {
        Proof::RecoveryCode(used) => statements.push(super::recovery_codes::use_statement(
            db, tenant_id, used, user_id, hash, now,
        )?),
        Proof::OtherDevice(used) => statements.push(super::other_device::use_statement(
            db, tenant_id, used, user_id, hash, now,
        )?),
        Proof::EmailCode(attempt) => statements.extend(super::email_codes::attempt_statements(
            db, tenant_id, &attempt, user_id, hash,
        )?),
        Proof::Checked | Proof::Passkey(_) => {}
    }
    let session_at = statements.len();
    statements.push(match &s.proof {
        Proof::Checked => insert_statement(db, tenant_id, s.session)?,
        Proof::Passkey(used) => insert_for_passkey_statement(db, tenant_id, s.session, used)?,
        Proof::RecoveryCode(used) => {
            insert_for_recovery_code_statement(db, tenant_id, s.session, *used)?
        }
        Proof::OtherDevice(used) => {
            insert_for_other_device_statement(db, tenant_id, s.session, *used)?
        }
        Proof::EmailCode(attempt) => {
            insert_for_email_code_statement(db, tenant_id, s.session, attempt)?
        }
    });
    if let Proof::Passkey(used) = s.proof {
        statements.push(super::passkeys::touch_statement(
            db,
            tenant_id,
            &used,
            s.session.created_at,
            &s.session.id_hash(),
        )?);
    }
    statements.extend(s.recorded);
    let code_at = statements.len();
    if let Some(code) = &s.code {
        statements.extend(super::codes::issue_statements(db, code)?);
    }
    // Last, so no statement that reads `changes()` of the one before it is separated from it.
    let browser_at = statements.len();
    if let Some(browser) = &s.session.browser_hash {
        statements.extend(super::known_browsers::sign_in_statements(
            db, tenant_id, user_id, browser, hash, now,
        )?);
    }
    let results = db.batch(statements).await?;
    let notify = match &s.session.browser_hash {
        Some(_) => super::known_browsers::notice_from(&results[browser_at + 1])?,
        None => None,
    };
    Ok(SignedIn {
        created: super::db::changes(&results[session_at]) == 1,
        code_issued: s.code.is_some() && super::db::changes(&results[code_at]) == 1,
        notify,
    })
}

/// The two statements that read a live session and its (enabled) user; they join other
/// statements in one batch (see [`from_results`]).
pub(super) fn find_statements(
    db: &Db,
    tenant_id: &str,
    session_id: &str,
    now: i64,
) -> Result<Vec<Statement>> {
    let live = "FROM sessions WHERE id_hash = ?1 AND tenant_id = ?2 AND expires_at > ?3";
    Ok(vec![
        db.statement(
            &format!("SELECT id_hash, auth_time, expires_at {live}"),
            params![secret_hash(session_id), tenant_id, now],
        )?,
        db.statement(
            &format!(
                "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?2 AND disabled = 0 \
                 AND id = (SELECT user_id {live})"
            ),
            params![secret_hash(session_id), tenant_id, now],
        )?,
    ])
}

/// Reads the results of [`find_statements`].
pub(super) fn from_results(results: &[super::db::QueryResult]) -> Result<Option<SessionWithUser>> {
    let session = rows::<Row>(&results[0])?.into_iter().next();
    let user = rows::<UserRow>(&results[1])?.into_iter().next();
    Ok(match (session, user) {
        (Some(s), Some(user)) => Some(SessionWithUser {
            id_hash: s.id_hash,
            auth_time: s.auth_time,
            expires_at: s.expires_at,
            user,
        }),
        _ => None,
    })
}

/// The live session a cookie value names, with its (enabled) user, in one round trip.
pub async fn find(
    db: &Db,
    tenant_id: &str,
    session_id: &str,
    now: i64,
) -> Result<Option<SessionWithUser>> {
    let results = db
        .batch(find_statements(db, tenant_id, session_id, now)?)
        .await?;
    from_results(&results)
}

pub(super) fn delete_statement(db: &Db, tenant_id: &str, id_hash: &str) -> Result<Statement> {
    db.statement(
        "DELETE FROM sessions WHERE id_hash = ?1 AND tenant_id = ?2",
        params![id_hash, tenant_id],
    )
}

pub async fn delete(db: &Db, tenant_id: &str, id_hash: &str) -> Result<()> {
    db.batch(vec![delete_statement(db, tenant_id, id_hash)?])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::audit::{self, When};
    use crate::storage::passkeys::{self, NewPasskey};
    use crate::testing::{self, db, run, tenant, user, NOW};

    fn session(user_id: &str, id: &str) -> NewSession {
        NewSession {
            method: SignInMethod::Passkey { synced: false },
            id: id.repeat(43 / id.len() + 1)[..43].to_string(),
            user_id: user_id.to_string(),
            created_at: NOW + 10,
            expires_at: NOW + 3600,
            ip: Some("192.0.2.1".into()),
            user_agent: None,
            browser_hash: None,
        }
    }

    #[test]
    fn a_sign_in_records_the_passkeys_counter_and_use_only_when_the_session_was_created() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let key = NewPasskey {
                credential_id: "cred-1",
                name: "Phone",
                public_key: "AQID",
                algorithm: -7,
                sign_count: 3,
                backup_eligible: true,
                backup_state: false,
                transports: "[]",
                aaguid: "AAAAAAAAAAAAAAAAAAAAAA",
            };
            let entry = audit::insert_when_statement(
                &db,
                &t.id,
                "passkey_added",
                Some(&ada),
                None,
                &Default::default(),
                &serde_json::json!({}),
                NOW,
                When::PreviousChanged,
            )
            .unwrap();
            passkeys::add(&db, &t.id, &ada, &key, NOW, entry, testing::spend(NOW))
                .await
                .unwrap();
            assert_eq!(testing::passkey_use(&db, "cred-1").await, (3, 0, None));
            let used = PasskeyUse {
                credential_id: "cred-1",
                public_key: "AQID",
                sign_count: 4,
                backed_up: true,
            };
            let s = session(&ada, "a");
            let recorded = |event: &str, when| {
                audit::insert_when_statement(
                    &db,
                    &t.id,
                    event,
                    Some(&ada),
                    None,
                    &Default::default(),
                    &serde_json::json!({}),
                    NOW,
                    when,
                )
                .unwrap()
            };
            let hash = s.id_hash();
            let with_passkey = |s, used, hash| SignIn {
                proof: Proof::Passkey(used),
                recorded: vec![
                    recorded("sign_in", When::SessionCreated(hash)),
                    recorded("sign_in_failed", When::SessionRefused(hash)),
                ],
                ..SignIn::plain(s)
            };
            assert!(
                create(&db, &t.id, with_passkey(&s, used, &hash))
                    .await
                    .unwrap()
                    .created
            );
            assert_eq!(
                testing::passkey_use(&db, "cred-1").await,
                (4, 1, Some(NOW + 10))
            );
            let found = find(&db, &t.id, &s.id, NOW + 11).await.unwrap().unwrap();
            assert_eq!(found.id_hash, hash);
            assert_eq!(found.expires_at, NOW + 3600);

            // The primary re-checks the passkey (it may have been read from a replica): a
            // counter that did not grow, or another public key, creates no session.
            let replaced = PasskeyUse {
                public_key: "BAUG",
                sign_count: 5,
                ..used
            };
            for (i, refused_use) in [used, replaced].into_iter().enumerate() {
                let s = session(&ada, &format!("x{i}"));
                let plain = SignIn {
                    proof: Proof::Passkey(refused_use),
                    ..SignIn::plain(&s)
                };
                assert!(!create(&db, &t.id, plain).await.unwrap().created, "{i}");
            }
            assert_eq!(
                passkeys::refusal(&db, &t.id, &ada, &used).await.unwrap(),
                passkeys::Refusal::CounterRegression
            );
            assert_eq!(
                passkeys::refusal(&db, &t.id, &ada, &replaced)
                    .await
                    .unwrap(),
                passkeys::Refusal::PasskeyGone
            );
            let growing = PasskeyUse {
                sign_count: 5,
                ..used
            };
            assert_eq!(
                passkeys::refusal(&db, &t.id, &ada, &growing).await.unwrap(),
                passkeys::Refusal::Changed
            );

            // Disabled: no session, the passkey untouched, only the refusal recorded.
            testing::set_disabled(&db, &ada, true).await;
            let refused = session(&ada, "b");
            let hash = refused.id_hash();
            let later = PasskeyUse {
                sign_count: 9,
                ..used
            };
            assert!(
                !create(&db, &t.id, with_passkey(&refused, later, &hash))
                    .await
                    .unwrap()
                    .created
            );
            assert_eq!(
                testing::passkey_use(&db, "cred-1").await,
                (4, 1, Some(NOW + 10))
            );
            let events: Vec<String> = testing::audit_events(&db, &t.id)
                .await
                .into_iter()
                .map(|(e, ..)| e)
                .collect();
            assert_eq!(
                events,
                [
                    testing::FIXTURE_EVENT,
                    "passkey_added",
                    "sign_in",
                    "sign_in_failed"
                ]
            );

            // A session for a user of another tenant is never created.
            let beta = tenant(&db, "beta").await;
            assert!(
                !create(&db, &beta.id, SignIn::plain(&session(&ada, "c")))
                    .await
                    .unwrap()
                    .created
            );
            // Deleting a session ends it.
            delete(&db, &t.id, &found.id_hash).await.unwrap();
            testing::set_disabled(&db, &ada, false).await;
            assert!(find(&db, &t.id, &s.id, NOW + 11).await.unwrap().is_none());
        });
    }
}
