//! Registering a passkey: a new account with its first passkey (through an invitation, the
//! tenant's first-admin setup link, or open sign-up), or another passkey for the signed-in
//! person.
//!
//! `start` validates what it can (the profile, the link, whether the names are free) and
//! issues a challenge that remembers what finishing does; `finish` takes that challenge once,
//! verifies the authenticator's response, and writes the result in one transaction: for a
//! sign-up the user, the spent link, the passkey, the session and the audit entry, all or none.

use serde_json::{json, Value};

use super::ceremony::{self, b64, b64_decode, Ceremony, ChallengePurpose, TIMEOUT_MS};
use super::sessions::{self, Started};
use super::Ctx;
use crate::account::{NewProfile, ProfileInput};
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::oidc::amr::SignInMethod;
use crate::passkey::{self, UserEntity};
use crate::storage::audit::{self, When};
use crate::storage::ceremonies::{self, LinkPurpose};
use crate::storage::db::unique_violation;
use crate::storage::invitations::InvitationDetails;
use crate::storage::passkeys::{self, NewPasskey};
use crate::storage::sessions::SessionWithUser;
use crate::storage::spent;
use crate::storage::users::{self, NewSignup, SignUp};
use crate::tenancy::SignupMode;

/// Who a registration is for, as the request says.
#[derive(Debug, Clone, Copy)]
pub struct StartInput<'a> {
    /// An invitation or first-admin setup link's token.
    pub token: Option<&'a str>,
    /// The new account's profile (sign-up).
    pub profile: Option<&'a ProfileInput>,
    /// The session cookie: with neither token nor profile, a passkey is added to this account.
    pub session: Option<&'a str>,
    /// This browser's id (`eid_browser`): the challenge works only here.
    pub browser: &'a str,
}

fn link_spent() -> Error {
    Error::BadRequest("This link has expired or was already used.".into())
}

/// What a sign-up link creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUpLink {
    /// The tenant's first admin (the operator's setup link).
    FirstAdmin,
    /// An ordinary account (an admin's invitation), with the email it prefills.
    Invite { email: Option<String> },
}

/// The kind of sign-up link `token` is, while it still works (the setup page); `None` for an
/// unknown, expired or used link, or a link of another kind.
pub async fn sign_up_link(ctx: &Ctx<'_>, token: &str) -> Result<Option<SignUpLink>> {
    let link = ceremonies::peek_token(ctx.db, ctx.tenant_id(), token, ctx.now).await?;
    Ok(link.and_then(|l| match l.purpose.as_str() {
        p if p == LinkPurpose::FirstAdmin.as_str() => Some(SignUpLink::FirstAdmin),
        p if p == LinkPurpose::Invite.as_str() => Some(SignUpLink::Invite {
            email: serde_json::from_str::<InvitationDetails>(&l.details)
                .ok()
                .and_then(|d| d.email),
        }),
        _ => None,
    }))
}

/// Starts a registration: the options for `navigator.credentials.create()`.
///
/// With a link: a new account from the invitation or first-admin link (which must still
/// work). With a profile and no link: open sign-up, if the tenant allows it. With neither: a
/// new passkey for the signed-in person (401 without a session), excluding the passkeys they
/// already have so one authenticator never holds two of theirs.
pub async fn start(ctx: &Ctx<'_>, input: StartInput<'_>) -> Result<Value> {
    let (user_id, ceremony, user) = match (input.token.filter(|t| !t.is_empty()), input.profile) {
        (Some(token), profile) => {
            let link = sign_up_link(ctx, token).await?.ok_or_else(link_spent)?;
            let admin = link == SignUpLink::FirstAdmin;
            new_account(
                ctx,
                Some(secret_hash(token)),
                admin,
                profile.unwrap_or(&ProfileInput::default()),
            )
            .await?
        }
        (None, Some(profile)) => {
            if ctx.tenant.tenant.settings.signup_mode != SignupMode::Open {
                return Err(Error::Forbidden(
                    "Accounts here are created by invitation. Ask an administrator for a link."
                        .into(),
                ));
            }
            new_account(ctx, None, false, profile).await?
        }
        (None, None) => {
            let current = sessions::current(ctx, input.session)
                .await?
                .ok_or(Error::Unauthenticated)?;
            let user = UserEntity {
                id: current.user.id.as_bytes().to_vec(),
                name: current.user.username.clone(),
                display_name: current.user.full_name(),
            };
            let user_id = current.user.id.clone();
            (user_id.clone(), Ceremony::AddPasskey { user_id }, user)
        }
    };
    let existing: Vec<Vec<u8>> = passkeys::list_for_user(ctx.db, ctx.tenant_id(), &user_id)
        .await?
        .iter()
        .filter_map(|p| b64_decode(&p.credential_id).ok())
        .collect();
    let challenge = ceremony::issue(ctx, input.browser, &ceremony);
    Ok(passkey::creation_options(
        &ceremony::relying_party(ctx)?,
        &user,
        &challenge,
        &existing,
        TIMEOUT_MS,
    ))
}

/// Validates a new account's profile and prepares its sign-up ceremony (with a fresh user id,
/// which is also the passkey's user handle).
async fn new_account(
    ctx: &Ctx<'_>,
    token_hash: Option<String>,
    admin: bool,
    profile: &ProfileInput,
) -> Result<(String, Ceremony, UserEntity)> {
    let p = NewProfile::validate(profile)?;
    if users::username_or_email_taken(ctx.db, ctx.tenant_id(), &p.username, Some(&p.email)).await? {
        return Err(Error::Conflict(
            "That username or email address is already in use.".into(),
        ));
    }
    let user_id = random::id();
    let user = UserEntity {
        id: user_id.as_bytes().to_vec(),
        name: p.username.clone(),
        display_name: p.display_name(),
    };
    let ceremony = Ceremony::Signup {
        user_id: user_id.clone(),
        token_hash,
        admin,
        username: p.username,
        email: p.email,
        first_name: p.first_name,
        last_name: p.last_name,
    };
    Ok((user_id, ceremony, user))
}

/// What a finished registration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    /// A new account, signed in with this session.
    SignedUp(Started),
    /// Another passkey on the signed-in account.
    PasskeyAdded,
}

/// A default name for a new passkey, from the browser's user agent.
fn default_passkey_name(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or_default();
    let platform = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Mac OS", "Mac"),
        ("Windows", "Windows"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("Passkey", |(_, name)| name);
    format!("{platform} passkey")
}

/// The name a person gave their new passkey (trimmed; blank means none), checked before the
/// challenge is spent so a bad one costs no ceremony.
fn given_name(name: Option<&str>) -> Result<Option<String>> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    crate::validation::plain_text("name", name)?;
    Ok(Some(name.chars().take(64).collect()))
}

/// Finishes a registration in this browser with its `RegistrationResponseJSON`, an optional
/// name for the passkey, and the session cookie (needed only to add a passkey).
pub async fn finish(
    ctx: &Ctx<'_>,
    credential: &Value,
    name: Option<&str>,
    session: Option<&str>,
    browser: &str,
) -> Result<Finished> {
    let given = given_name(name)?;
    let echoed = passkey::client_data_challenge(credential)?;
    let challenge = ceremony::open(ctx, browser, &echoed, ChallengePurpose::Register)?;
    let checked = passkey::check_registration(
        &ceremony::relying_party(ctx)?,
        &challenge.challenge,
        credential,
    )?;
    let key_accepted = ctx.verifier.accepts_key(checked.key()).await?;
    // A refused key is not handed to the verifier again: `conclude` refuses it as malformed.
    let attestation_verified = match checked.attestation_signature() {
        Some(check) if key_accepted => Some(ctx.verifier.verify(check).await?),
        _ => None,
    };
    let registered = checked.conclude(key_accepted, attestation_verified)?;
    let replayed = || ceremony::expired(ChallengePurpose::Register);
    let name = given.unwrap_or_else(|| default_passkey_name(ctx.origin.user_agent.as_deref()));
    let credential_id = b64(&registered.credential_id);
    let public_key = b64(&registered.public_key_cose);
    let transports = serde_json::to_string(&registered.transports)?;
    let aaguid = b64(&registered.aaguid);
    let new_passkey = NewPasskey {
        credential_id: &credential_id,
        name: &name,
        public_key: &public_key,
        algorithm: registered.algorithm,
        sign_count: i64::from(registered.sign_count),
        backup_eligible: registered.backup_eligible,
        backup_state: registered.backed_up,
        transports: &transports,
        aaguid: &aaguid,
    };
    match &challenge.ceremony {
        Ceremony::Signup {
            user_id,
            token_hash,
            admin,
            username,
            email,
            first_name,
            last_name,
        } => {
            let account = NewSignup {
                id: user_id,
                username,
                email,
                first_name,
                last_name: last_name.as_deref(),
                is_admin: *admin,
                link_hash: token_hash.as_deref(),
                challenge: challenge.spend(),
            };
            let method = SignInMethod::Passkey {
                synced: registered.backed_up,
            };
            let session = sessions::new_session(ctx, user_id, method);
            // Written only if the batch created the account (and so its session).
            let entry = audit::insert_when_statement(
                ctx.db,
                ctx.tenant_id(),
                "sign_up",
                Some(user_id),
                None,
                &ctx.origin,
                &json!({ "admin": admin, "passkey": name }),
                ctx.now,
                When::SessionCreated(&session.id_hash()),
            )?;
            let outcome = users::sign_up(
                ctx.db,
                ctx.tenant_id(),
                &account,
                &new_passkey,
                &session,
                entry,
                ctx.now,
            )
            .await
            .map_err(spent::refuse_replay(replayed))?;
            if outcome == SignUp::LinkSpent {
                return Err(link_spent());
            }
            Ok(Finished::SignedUp(sessions::started(ctx, session)))
        }
        Ceremony::AddPasskey { user_id } => {
            let current: SessionWithUser = sessions::current(ctx, session)
                .await?
                .ok_or(Error::Unauthenticated)?;
            if &current.user.id != user_id {
                return Err(Error::Forbidden(
                    "This registration belongs to another session.".into(),
                ));
            }
            let entry = audit::insert_when_statement(
                ctx.db,
                ctx.tenant_id(),
                "passkey_added",
                Some(user_id),
                None,
                &ctx.origin,
                &json!({ "passkey": name }),
                ctx.now,
                When::PreviousChanged,
            )?;
            passkeys::add(
                ctx.db,
                ctx.tenant_id(),
                user_id,
                &new_passkey,
                ctx.now,
                entry,
                challenge.spend(),
            )
            .await
            .map_err(spent::refuse_replay(replayed))
            .map_err(unique_violation("This passkey is already registered."))?;
            Ok(Finished::PasskeyAdded)
        }
        Ceremony::Login => Err(replayed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::oidc::BROWSER;
    use crate::testing::{self, db, run, tenant, user, NOW};
    use crate::testing::{ctx, link, profile, snapshot, SoftAuthenticator};

    /// Starts a sign-up and has a new authenticator answer it: the response to finish with.
    async fn register(
        c: &Ctx<'_>,
        input: StartInput<'_>,
        authenticator: &mut SoftAuthenticator,
    ) -> Value {
        let options = start(c, input).await.expect("the registration starts");
        authenticator.register(c.issuer, options).await
    }

    fn with_link<'a>(token: &'a str, p: &'a ProfileInput) -> StartInput<'a> {
        StartInput {
            token: Some(token),
            profile: Some(p),
            session: None,
            browser: BROWSER,
        }
    }

    fn signed_up(f: Finished) -> Started {
        match f {
            Finished::SignedUp(s) => s,
            other => panic!("expected a sign-up, got {other:?}"),
        }
    }

    async fn user_named(db: &Db, tenant_id: &str, username: &str) -> Option<users::UserRow> {
        let (rows, _) = users::list_page(
            db,
            tenant_id,
            Some(username),
            &crate::admin::paging::Page::parse(None, None).unwrap(),
        )
        .await
        .unwrap();
        rows.into_iter().find(|u| u.username == username)
    }

    struct Tenant {
        db: Db,
        snap: TenantSnapshot,
    }

    async fn acme() -> Tenant {
        let db = db();
        let t = tenant(&db, "acme").await;
        Tenant {
            snap: snapshot(&t),
            db,
        }
    }

    #[test]
    fn the_first_admin_signs_up_with_user_passkey_session_and_audit_entry_at_once() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let token = link(&db, &tid, LinkPurpose::FirstAdmin, None).await;
            assert_eq!(
                sign_up_link(&c, &token).await.unwrap(),
                Some(SignUpLink::FirstAdmin)
            );
            let mut phone = SoftAuthenticator::new();
            let ada = profile("ada");
            let response = register(&c, with_link(&token, &ada), &mut phone).await;
            assert_eq!(
                testing::count_rows(&db, "users", &tid).await,
                0,
                "starting writes no account"
            );
            let started = signed_up(finish(&c, &response, None, None, BROWSER).await.unwrap());

            let account = user_named(&db, &tid, "ada").await.expect("the account");
            assert!(account.is_admin);
            assert_eq!(account.email.as_deref(), Some("ada@example.com"));
            let keys = passkeys::list_for_user(&db, &tid, &account.id)
                .await
                .unwrap();
            assert_eq!(keys.len(), 1);
            assert_eq!(keys[0].name, "Mac passkey", "named after the user agent");
            let session = sessions::current(&c, Some(&started.id))
                .await
                .unwrap()
                .expect("signed in");
            assert_eq!(session.user.id, account.id);
            let entries = testing::audit_events(&db, &tid).await;
            let sign_up = entries.iter().find(|(e, ..)| e == "sign_up").unwrap();
            assert_eq!(sign_up.1.as_deref(), Some(account.id.as_str()));
            assert_eq!(sign_up.2["admin"], true);
            // The link is spent.
            assert_eq!(sign_up_link(&c, &token).await.unwrap(), None);
            let again = start(&c, with_link(&token, &profile("bob"))).await;
            assert!(
                matches!(&again, Err(Error::BadRequest(m)) if m.contains("already used")),
                "{again:?}"
            );
            // The challenge worked once.
            let replay = finish(&c, &response, None, None, BROWSER).await;
            assert!(
                matches!(&replay, Err(Error::BadRequest(m)) if m.contains("expired")),
                "{replay:?}"
            );
        });
    }

    #[test]
    fn a_taken_username_fails_the_whole_sign_up_and_the_invitation_stays_usable() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let token = link(&db, &tid, LinkPurpose::Invite, None).await;
            let mut phone = SoftAuthenticator::new();
            let response = register(&c, with_link(&token, &profile("grace")), &mut phone).await;
            // Someone takes the name between start and finish.
            user(&db, &tid, "grace", false).await;
            let entries_before = testing::audit_events(&db, &tid).await.len();
            let refused = finish(&c, &response, None, None, BROWSER).await;
            assert!(matches!(&refused, Err(Error::Conflict(_))), "{refused:?}");
            assert_eq!(testing::count_rows(&db, "users", &tid).await, 1);
            assert_eq!(testing::count_rows(&db, "passkeys", &tid).await, 0);
            assert_eq!(testing::count_rows(&db, "sessions", &tid).await, 0);
            assert_eq!(testing::audit_events(&db, &tid).await.len(), entries_before);
            assert_eq!(
                sign_up_link(&c, &token).await.unwrap(),
                Some(SignUpLink::Invite { email: None }),
                "the link is not spent"
            );
            // ...and a fresh ceremony with a free name succeeds with the same link.
            let taken = start(&c, with_link(&token, &profile("grace"))).await;
            assert!(matches!(taken, Err(Error::Conflict(_))), "checked at start");
            let response = register(&c, with_link(&token, &profile("grace2")), &mut phone).await;
            signed_up(finish(&c, &response, None, None, BROWSER).await.unwrap());
            let made = user_named(&db, &tid, "grace2").await.unwrap();
            assert!(!made.is_admin, "an invitation makes an ordinary account");
        });
    }

    #[test]
    fn a_passkey_already_registered_fails_the_whole_sign_up() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let token = link(&db, &tid, LinkPurpose::Invite, None).await;
            let mut phone = SoftAuthenticator::new();
            let response = register(&c, with_link(&token, &profile("ada")), &mut phone).await;
            signed_up(finish(&c, &response, None, None, BROWSER).await.unwrap());
            let ada = user_named(&db, &tid, "ada").await.unwrap();
            let held = passkeys::list_for_user(&db, &tid, &ada.id).await.unwrap();
            // A second account whose batch reaches the passkey insert with that credential:
            // the user insert before it succeeded, and is undone with everything else.
            let second = users::NewSignup {
                id: "user-twin",
                username: "twin",
                email: "twin@example.com",
                first_name: "Twin",
                last_name: None,
                is_admin: false,
                link_hash: None,
                challenge: testing::spend(NOW),
            };
            let key = NewPasskey {
                credential_id: &held[0].credential_id,
                name: "Copy",
                public_key: &held[0].public_key,
                algorithm: -7,
                sign_count: 0,
                backup_eligible: false,
                backup_state: false,
                transports: "[]",
                aaguid: "AAAAAAAAAAAAAAAAAAAAAA",
            };
            let session =
                sessions::new_session(&c, "user-twin", SignInMethod::Passkey { synced: false });
            let entry = audit::insert_when_statement(
                &db,
                &tid,
                "sign_up",
                Some("user-twin"),
                None,
                &c.origin,
                &json!({}),
                NOW,
                When::SessionCreated(&session.id_hash()),
            )
            .unwrap();
            let before = testing::audit_events(&db, &tid).await.len();
            let refused = users::sign_up(&db, &tid, &second, &key, &session, entry, NOW).await;
            assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
            assert!(user_named(&db, &tid, "twin").await.is_none());
            assert_eq!(testing::count_rows(&db, "users", &tid).await, 1);
            assert_eq!(testing::count_rows(&db, "passkeys", &tid).await, 1);
            assert_eq!(testing::count_rows(&db, "sessions", &tid).await, 1);
            assert_eq!(testing::audit_events(&db, &tid).await.len(), before);
        });
    }

    #[test]
    fn a_login_link_is_no_sign_up_link() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let ada = user(&db, &tid, "ada", false).await;
            let token = link(&db, &tid, LinkPurpose::Login, Some(&ada)).await;
            assert_eq!(sign_up_link(&c, &token).await.unwrap(), None);
            assert_eq!(sign_up_link(&c, "no-such-link").await.unwrap(), None);
            let refused = start(&c, with_link(&token, &profile("bob"))).await;
            assert!(
                matches!(&refused, Err(Error::BadRequest(m)) if m.contains("already used")),
                "{refused:?}"
            );
        });
    }

    #[test]
    fn two_sign_ups_for_one_invitation_make_one_account() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let token = link(&db, &tid, LinkPurpose::Invite, None).await;
            let (mut a, mut b) = (SoftAuthenticator::new(), SoftAuthenticator::new());
            let ra = register(&c, with_link(&token, &profile("racer1")), &mut a).await;
            let rb = register(&c, with_link(&token, &profile("racer2")), &mut b).await;
            signed_up(finish(&c, &ra, None, None, BROWSER).await.unwrap());
            let lost = finish(&c, &rb, None, None, BROWSER).await;
            assert!(
                matches!(&lost, Err(Error::BadRequest(m)) if m.contains("already used")),
                "{lost:?}"
            );
            assert_eq!(testing::count_rows(&db, "users", &tid).await, 1);
            assert_eq!(testing::count_rows(&db, "passkeys", &tid).await, 1);
            assert_eq!(testing::count_rows(&db, "sessions", &tid).await, 1);
            let sign_ups = testing::audit_events(&db, &tid)
                .await
                .into_iter()
                .filter(|(e, ..)| e == "sign_up")
                .count();
            assert_eq!(sign_ups, 1);
        });
    }

    /// An invitation for three accounts with a group: three sign-ups join the group, the
    /// fourth is refused; the list says it is used up; a revoked one stops working.
    #[test]
    fn a_multi_use_invitation_makes_its_accounts_in_its_groups_and_no_more() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let staff = testing::group(&db, &tid, "staff", &[]).await;
            let admin = testing::admin_ctx(&db, &tid, crate::usecase::Actor::Operator);
            let input = crate::admin::requests::InvitationInput {
                max_uses: Some(3),
                email: Some("Team@Example.com".into()),
                group_ids: vec![staff.clone()],
                ..Default::default()
            };
            let issued = crate::usecase::users::create_invite(&admin, "https://x", &input)
                .await
                .unwrap();
            let token = issued.link.token;
            assert_eq!(
                sign_up_link(&c, &token).await.unwrap(),
                Some(SignUpLink::Invite {
                    email: Some("team@example.com".into())
                })
            );
            for name in ["one", "two", "three"] {
                let mut a = SoftAuthenticator::new();
                let r = register(&c, with_link(&token, &profile(name)), &mut a).await;
                signed_up(finish(&c, &r, None, None, BROWSER).await.unwrap());
            }
            let refused = start(&c, with_link(&token, &profile("four"))).await;
            assert!(matches!(&refused, Err(Error::BadRequest(_))), "{refused:?}");
            assert_eq!(testing::count_rows(&db, "users", &tid).await, 3);
            for name in ["one", "two", "three"] {
                let user = user_named(&db, &tid, name).await.unwrap();
                let groups = users::groups_of(&db, &tid, &user.id).await.unwrap();
                assert_eq!(groups.len(), 1, "{name}");
                assert_eq!(groups[0].id, staff);
            }
            let listed = crate::usecase::users::list_invites(&admin).await.unwrap();
            assert_eq!(listed[0].uses, 3);
            assert_eq!(
                listed[0].status,
                crate::usecase::users::InvitationStatus::UsedUp
            );

            let again =
                crate::usecase::users::create_invite(&admin, "https://x", &Default::default())
                    .await
                    .unwrap();
            crate::usecase::users::revoke_invite(&admin, &again.invitation.id)
                .await
                .unwrap();
            assert_eq!(sign_up_link(&c, &again.link.token).await.unwrap(), None);
            assert!(matches!(
                crate::usecase::users::revoke_invite(&admin, &again.invitation.id).await,
                Err(Error::NotFound(_))
            ));
            // Limits and groups are checked.
            for (bad, field) in [
                (
                    crate::admin::requests::InvitationInput {
                        max_uses: Some(101),
                        ..Default::default()
                    },
                    "max_uses",
                ),
                (
                    crate::admin::requests::InvitationInput {
                        group_ids: vec!["nope".into()],
                        ..Default::default()
                    },
                    "group_ids",
                ),
            ] {
                let err = crate::usecase::users::create_invite(&admin, "https://x", &bad)
                    .await
                    .unwrap_err();
                assert!(
                    matches!(err, Error::Invalid { field: f, .. } if f == field),
                    "{err:?}"
                );
            }
        });
    }

    #[test]
    fn open_sign_up_only_when_the_tenant_allows_it() {
        run(async {
            let Tenant { db, mut snap } = acme().await;
            let eve = profile("eve");
            let open = StartInput {
                token: Some(""),
                profile: Some(&eve),
                session: None,
                browser: BROWSER,
            };
            {
                let c = ctx(&db, &snap, NOW);
                let refused = start(&c, open).await;
                assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
            }
            snap.tenant.settings.signup_mode = SignupMode::Open;
            let c = ctx(&db, &snap, NOW);
            let bad = ProfileInput {
                email: Some("not-an-email".into()),
                ..profile("eve")
            };
            let invalid = start(
                &c,
                StartInput {
                    profile: Some(&bad),
                    ..open
                },
            )
            .await;
            assert!(
                matches!(invalid, Err(Error::Invalid { field: "email", .. })),
                "{invalid:?}"
            );
            let mut key = SoftAuthenticator::new();
            let response = register(&c, open, &mut key).await;
            let named = finish(&c, &response, Some("  YubiKey 5  "), None, BROWSER).await;
            signed_up(named.unwrap());
            let made = user_named(&db, c.tenant_id(), "eve").await.unwrap();
            assert!(!made.is_admin);
            let keys = passkeys::list_for_user(&db, c.tenant_id(), &made.id)
                .await
                .unwrap();
            assert_eq!(keys[0].name, "YubiKey 5");
        });
    }

    #[test]
    fn a_bad_passkey_name_is_refused_before_the_challenge_is_spent() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let token = link(&db, c.tenant_id(), LinkPurpose::Invite, None).await;
            let mut key = SoftAuthenticator::new();
            let response = register(&c, with_link(&token, &profile("ida")), &mut key).await;
            let bad = finish(&c, &response, Some("Key\u{202E}"), None, BROWSER).await;
            assert!(
                matches!(bad, Err(Error::Invalid { field: "name", .. })),
                "{bad:?}"
            );
            signed_up(
                finish(&c, &response, Some("Key"), None, BROWSER)
                    .await
                    .unwrap(),
            );
        });
    }

    #[test]
    fn an_expired_or_foreign_registration_is_refused() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let token = link(&db, c.tenant_id(), LinkPurpose::Invite, None).await;
            let mut key = SoftAuthenticator::new();
            let response = register(&c, with_link(&token, &profile("late")), &mut key).await;
            let late = ctx(&db, &snap, NOW + ceremony::CHALLENGE_TTL_SECS);
            let expired = finish(&late, &response, None, None, BROWSER).await;
            assert!(
                matches!(&expired, Err(Error::BadRequest(m)) if m.contains("expired")),
                "{expired:?}"
            );
            // Another tenant finds no such challenge.
            let beta = tenant(&db, "beta").await;
            let beta_snap = snapshot(&beta);
            let b = ctx(&db, &beta_snap, NOW);
            let response = register(&c, with_link(&token, &profile("late")), &mut key).await;
            assert!(finish(&b, &response, None, None, BROWSER).await.is_err());
            // A malformed response spends nothing.
            assert!(finish(
                &c,
                &serde_json::json!({"type": "public-key"}),
                None,
                None,
                BROWSER
            )
            .await
            .is_err());
            assert_eq!(testing::count_rows(&db, "users", c.tenant_id()).await, 0);
        });
    }

    #[test]
    fn a_signed_in_person_adds_a_passkey_to_their_own_account_only() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let mut phone = SoftAuthenticator::new();
            let token = link(&db, &tid, LinkPurpose::Invite, None).await;
            let response = register(&c, with_link(&token, &profile("ada")), &mut phone).await;
            let ada = signed_up(finish(&c, &response, None, None, BROWSER).await.unwrap());
            let add = StartInput {
                token: None,
                profile: None,
                session: Some(&ada.id),
                browser: BROWSER,
            };

            // Without a session there is nothing to add to.
            let anonymous = start(
                &c,
                StartInput {
                    session: None,
                    ..add
                },
            )
            .await;
            assert!(matches!(anonymous, Err(Error::Unauthenticated)));

            let options = start(&c, add).await.unwrap();
            assert_eq!(
                options["excludeCredentials"].as_array().unwrap().len(),
                1,
                "the passkey she has is excluded"
            );
            let mut laptop = SoftAuthenticator::new();
            let response = laptop.register(c.issuer, options).await;
            // Finishing needs her session...
            let no_session = finish(&c, &response, None, None, BROWSER).await;
            assert!(matches!(no_session, Err(Error::Unauthenticated)));
            // ...not someone else's (the failed attempts spent the challenge: start again).
            let token = link(&db, &tid, LinkPurpose::Invite, None).await;
            let mut other_key = SoftAuthenticator::new();
            let r = register(&c, with_link(&token, &profile("bob")), &mut other_key).await;
            let bob = signed_up(finish(&c, &r, None, None, BROWSER).await.unwrap());
            let response = register(&c, add, &mut laptop).await;
            let foreign = finish(&c, &response, None, Some(&bob.id), BROWSER).await;
            assert!(matches!(foreign, Err(Error::Forbidden(_))), "{foreign:?}");

            let response = register(&c, add, &mut laptop).await;
            let added = finish(&c, &response, Some("Laptop"), Some(&ada.id), BROWSER)
                .await
                .unwrap();
            assert_eq!(added, Finished::PasskeyAdded);
            let ada_id = sessions::current(&c, Some(&ada.id))
                .await
                .unwrap()
                .unwrap()
                .user
                .id;
            let names: Vec<String> = passkeys::list_for_user(&db, &tid, &ada_id)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.name)
                .collect();
            assert_eq!(names, ["Mac passkey", "Laptop"]);
            let added_entries = testing::audit_events(&db, &tid)
                .await
                .into_iter()
                .filter(|(e, ..)| e == "passkey_added")
                .collect::<Vec<_>>();
            assert_eq!(added_entries.len(), 1);
            assert_eq!(added_entries[0].1.as_deref(), Some(ada_id.as_str()));
            assert_eq!(added_entries[0].2["passkey"], "Laptop");
        });
    }

    #[test]
    fn a_sign_in_challenge_does_not_register() {
        run(async {
            let Tenant { db, snap } = acme().await;
            let c = ctx(&db, &snap, NOW);
            let token = link(&db, c.tenant_id(), LinkPurpose::Invite, None).await;
            let mut key = SoftAuthenticator::new();
            let options = start(&c, with_link(&token, &profile("ada"))).await.unwrap();
            // The registration options, with a sign-in challenge in place of the right one.
            let login = crate::usecase::signin::start(&c, BROWSER).unwrap();
            let mut forged = options.clone();
            forged["challenge"] = login["challenge"].clone();
            let response = key.register(c.issuer, forged).await;
            let refused = finish(&c, &response, None, None, BROWSER).await;
            assert!(
                matches!(&refused, Err(Error::BadRequest(m)) if m.contains("registration expired")),
                "{refused:?}"
            );
        });
    }

    #[test]
    fn default_names_follow_the_platform() {
        assert_eq!(
            default_passkey_name(Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)")),
            "iPhone passkey"
        );
        assert_eq!(
            default_passkey_name(Some("Mozilla/5.0 (Windows NT 10.0)")),
            "Windows passkey"
        );
        assert_eq!(default_passkey_name(None), "Passkey passkey");
    }
}
