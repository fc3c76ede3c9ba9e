//! What the passkey ceremonies share: the relying party a tenant host is, and single-use
//! challenges that say what finishing the ceremony does.
//!
//! Each ceremony is two calls. `start` seals a typed [`Ceremony`] for this tenant and browser
//! (`crate::crypto::sealed`) and uses the sealed bytes as the WebAuthn challenge, so nothing
//! is written: the browser carries it, and echoes it back in clientDataJSON. `finish` opens the
//! echoed challenge (refused when it was not ours, is of another tenant or browser, or has
//! expired), verifies the response (`crate::passkey`, pure), and records the challenge as spent
//! in the same batch that acts on it, so it works once even under concurrent use.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::crypto::sealed::{Binding, SealedKind};
use crate::error::{Error, Result};
use crate::passkey::RelyingParty;
use crate::storage::spent::Spend;

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

/// Which browser call a ceremony answers, for the message when its challenge is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengePurpose {
    /// Sign-in (`navigator.credentials.get`).
    Authenticate,
    /// Creating a passkey (`navigator.credentials.create`): sign-up, or adding one.
    Register,
}

/// What finishing a ceremony does (sealed into its challenge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Ceremony {
    Login,
    /// Create the account described here, consuming the one-time link.
    Signup {
        /// The new account's id (also the passkey's user handle).
        user_id: String,
        /// The invite or first-admin link consumed; `None` for open sign-up.
        token_hash: Option<String>,
        admin: bool,
        username: String,
        email: String,
        first_name: String,
        last_name: Option<String>,
    },
    /// Add a passkey to this existing account.
    AddPasskey {
        user_id: String,
    },
}

impl Ceremony {
    pub(crate) fn purpose(&self) -> ChallengePurpose {
        match self {
            Ceremony::Login => ChallengePurpose::Authenticate,
            Ceremony::Signup { .. } | Ceremony::AddPasskey { .. } => ChallengePurpose::Register,
        }
    }
}

/// A challenge echoed back and opened: the ceremony it was issued for, the challenge bytes
/// (to check clientDataJSON against) and what spending it records.
#[derive(Debug)]
pub(crate) struct Echoed {
    pub ceremony: Ceremony,
    pub challenge: Vec<u8>,
    id: String,
    expires_at: i64,
}

impl Echoed {
    /// The record that this challenge was used, for the batch that finishes the ceremony.
    pub fn spend(&self) -> Spend<'_> {
        Spend {
            id: &self.id,
            expires_at: self.expires_at,
        }
    }
}

fn binding<'a>(ctx: &'a Ctx<'_>, browser: &'a str) -> Binding<'a> {
    Binding {
        tenant_id: ctx.tenant_id(),
        holder: browser,
    }
}

/// A challenge for `ceremony` in this browser, valid for [`CHALLENGE_TTL_SECS`]: the sealed
/// ceremony itself (no storage).
pub(crate) fn issue(ctx: &Ctx<'_>, browser: &str, ceremony: &Ceremony) -> Vec<u8> {
    ctx.sealer.seal(
        SealedKind::Challenge,
        &binding(ctx, browser),
        ctx.now,
        CHALLENGE_TTL_SECS,
        ceremony,
    )
}

/// Opens the challenge a response echoes, for a ceremony of `purpose` in this browser.
/// Whether it was used already is known only when the finishing batch records it.
pub(crate) fn open(
    ctx: &Ctx<'_>,
    browser: &str,
    echoed: &[u8],
    purpose: ChallengePurpose,
) -> Result<Echoed> {
    let opened = ctx
        .sealer
        .open::<Ceremony>(
            SealedKind::Challenge,
            &binding(ctx, browser),
            ctx.now,
            echoed,
        )
        .map_err(|_| expired(purpose))?;
    if opened.body.purpose() != purpose {
        return Err(expired(purpose));
    }
    Ok(Echoed {
        ceremony: opened.body,
        challenge: echoed.to_vec(),
        id: opened.id,
        expires_at: opened.expires_at,
    })
}

/// The refusal of a response whose challenge is unknown, used, expired, of another browser or
/// of the other kind.
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
    fn a_challenge_opens_for_its_purpose_tenant_and_browser_within_its_lifetime() {
        let db = db();
        run(async {
            let acme = tenant(&db, "acme").await;
            let beta = tenant(&db, "beta").await;
            let (acme, beta) = (snapshot(&acme), snapshot(&beta));
            let c = ctx(&db, &acme, NOW);
            let ceremony = Ceremony::AddPasskey {
                user_id: "u1".into(),
            };
            let issued = issue(&c, "browser-1", &ceremony);
            assert!(issued.len() >= 16 + 12 + 16, "salt, nonce and tag");
            let opened = open(&c, "browser-1", &issued, ChallengePurpose::Register).unwrap();
            assert_eq!(opened.ceremony, ceremony);
            assert_eq!(opened.challenge, issued);
            assert_eq!(opened.spend().expires_at, NOW + CHALLENGE_TTL_SECS);
            let refused = |r: Result<Echoed>| {
                assert!(matches!(r, Err(Error::BadRequest(m)) if m.contains("expired")))
            };
            refused(open(
                &c,
                "browser-1",
                &issued,
                ChallengePurpose::Authenticate,
            ));
            refused(open(&c, "browser-2", &issued, ChallengePurpose::Register));
            refused(open(
                &ctx(&db, &beta, NOW),
                "browser-1",
                &issued,
                ChallengePurpose::Register,
            ));
            let late = ctx(&db, &acme, NOW + CHALLENGE_TTL_SECS);
            refused(open(
                &late,
                "browser-1",
                &issued,
                ChallengePurpose::Register,
            ));
            refused(open(
                &c,
                "browser-1",
                b"a challenge we never issued",
                ChallengePurpose::Register,
            ));
        });
    }
}
