//! What the passkey ceremonies share: the relying party a tenant host is, and single-use
//! challenges that say what finishing the ceremony does.
//!
//! Each ceremony is two calls. `start` stores a challenge with a typed [`Ceremony`]; `finish`
//! finds the challenge by the value the browser echoes in clientDataJSON and deletes it in the
//! same statement (so it works once, even under concurrent use), and only then verifies the
//! response (`crate::passkey`, pure).

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::passkey::RelyingParty;
use crate::storage::ceremonies::{self, ChallengePurpose};

/// A ceremony must finish within this time.
pub(crate) const CHALLENGE_TTL_SECS: i64 = 300;
/// How long the browser waits for the authenticator.
pub(crate) const TIMEOUT_MS: u32 = 120_000;

/// The relying party of the tenant host a request came to: the RP ID is the issuer's host name
/// (without port), the origin the issuer itself.
pub fn relying_party(ctx: &Ctx<'_>) -> Result<RelyingParty> {
    let url = url::Url::parse(ctx.issuer)
        .map_err(|e| Error::Internal(format!("the issuer is not a URL: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| Error::Internal("the issuer has no host".into()))?;
    Ok(RelyingParty {
        id: host.to_string(),
        name: ctx.tenant.tenant.display_name.clone(),
        origin: ctx.issuer.to_string(),
    })
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

pub(crate) fn b64_decode(s: &str) -> Result<Vec<u8>> {
    base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, s)
        .map_err(|_| Error::Internal("stored base64 is corrupt".into()))
}

/// What finishing a ceremony does (stored with its challenge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Ceremony {
    Login,
    /// Create the account described here, consuming the one-time link.
    Signup {
        /// The invite or first-admin link consumed; `None` for open sign-up.
        token_hash: Option<String>,
        admin: bool,
        username: String,
        email: String,
        first_name: String,
        last_name: Option<String>,
    },
    /// Add a passkey to an existing account.
    AddPasskey,
}

impl Ceremony {
    pub(crate) fn from_stored(context: &str) -> Result<Self> {
        serde_json::from_str(context).map_err(|e| Error::Internal(format!("stored ceremony: {e}")))
    }
}

/// Issues a challenge for `ceremony`, valid for [`CHALLENGE_TTL_SECS`].
pub(crate) async fn issue(
    ctx: &Ctx<'_>,
    purpose: ChallengePurpose,
    user_id: Option<&str>,
    ceremony: &Ceremony,
) -> Result<[u8; 32]> {
    let challenge = random::bytes::<32>();
    ceremonies::put_challenge(
        ctx.db,
        ctx.tenant_id(),
        purpose,
        &b64(&challenge),
        user_id,
        &serde_json::to_string(ceremony)?,
        ctx.now + CHALLENGE_TTL_SECS,
    )
    .await?;
    Ok(challenge)
}

/// The refusal of a response whose challenge is unknown, used, expired or of the other kind.
pub(crate) fn expired(purpose: ChallengePurpose) -> Error {
    Error::BadRequest(match purpose {
        ChallengePurpose::Authenticate => "This sign-in attempt expired. Please try again.".into(),
        ChallengePurpose::Register => "This registration expired. Please try again.".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ctx, snapshot};
    use crate::testing::{db, run, tenant, NOW};

    #[test]
    fn the_relying_party_is_the_issuer_host_without_port() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let snap = snapshot(&t);
            let mut c = ctx(&db, &snap, NOW);
            c.issuer = "http://acme.localhost:8787";
            let rp = relying_party(&c).unwrap();
            assert_eq!(rp.id, "acme.localhost");
            assert_eq!(rp.origin, "http://acme.localhost:8787");
            assert_eq!(rp.name, "acme Inc.");
            c.issuer = "not a url";
            assert!(relying_party(&c).is_err());
        });
    }

    #[test]
    fn a_challenge_is_taken_once_within_its_lifetime_and_by_its_tenant_only() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let beta = tenant(&db, "beta").await;
            let snap = snapshot(&t);
            let c = ctx(&db, &snap, NOW);
            let ceremony = Ceremony::AddPasskey;
            let issued = issue(&c, ChallengePurpose::Register, Some("u1"), &ceremony)
                .await
                .unwrap();
            let echoed = b64(&issued);
            // Not by another tenant (and its attempt does not burn it).
            assert!(ceremonies::take_challenge(&db, &beta.id, &echoed, NOW)
                .await
                .unwrap()
                .is_none());
            let taken = ceremonies::take_challenge(&db, &t.id, &echoed, NOW + 1)
                .await
                .unwrap()
                .expect("the first take finds it");
            assert_eq!(taken.purpose, ChallengePurpose::Register);
            assert_eq!(taken.user_id.as_deref(), Some("u1"));
            assert_eq!(b64_decode(&taken.challenge).unwrap(), issued);
            assert_eq!(Ceremony::from_stored(&taken.context).unwrap(), ceremony);
            assert!(
                ceremonies::take_challenge(&db, &t.id, &echoed, NOW + 1)
                    .await
                    .unwrap()
                    .is_none(),
                "the second take finds nothing"
            );

            // An expired challenge is refused: at its expiry second, and after.
            let late = issue(&c, ChallengePurpose::Authenticate, None, &Ceremony::Login)
                .await
                .unwrap();
            assert!(
                ceremonies::take_challenge(&db, &t.id, &b64(&late), NOW + CHALLENGE_TTL_SECS)
                    .await
                    .unwrap()
                    .is_none()
            );
        });
    }

    #[test]
    fn two_connections_racing_for_one_challenge_take_it_once() {
        let dir = std::env::temp_dir().join(format!("eid-challenge-{}", random::token()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d1.sqlite");
        let first = crate::storage::db::Db::new(
            crate::storage::backend::sqlite::Sqlite::open(&path, true).unwrap(),
        );
        let echoed = run(async {
            let t = tenant(&first, "acme").await;
            let snap = snapshot(&t);
            let c = ctx(&first, &snap, NOW);
            b64(
                &issue(&c, ChallengePurpose::Authenticate, None, &Ceremony::Login)
                    .await
                    .unwrap(),
            )
        });
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let takers: Vec<_> = (0..4)
            .map(|_| {
                let (path, echoed, barrier) = (path.clone(), echoed.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let db = crate::storage::db::Db::new(
                        crate::storage::backend::sqlite::Sqlite::open(&path, false).unwrap(),
                    );
                    barrier.wait();
                    run(ceremonies::take_challenge(&db, "tenant-acme", &echoed, NOW))
                        .unwrap()
                        .is_some()
                })
            })
            .collect();
        let wins = takers
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|won| *won)
            .count();
        assert_eq!(wins, 1);
        std::fs::remove_dir_all(&dir).ok();
    }
}
