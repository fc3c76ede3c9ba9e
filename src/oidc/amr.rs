//! How a person signed in, as the `amr` claim says it (RFC 8176), and the session id a client
//! sees (`sid`, OIDC Front-/Back-Channel Logout).
//!
//! Every passkey sign-in here requires user verification (a biometric or the device PIN on top
//! of holding the key), so it is multi-factor: `mfa`, with `user` for the presence test and
//! `hwk` for a key bound to its device or `swk` for a synced one (kept by a password manager or
//! a platform keychain, protected by software). A one-time link an admin sent, a recovery code
//! and a one-time code the person had emailed to themselves are `otp` (RFC 8176 has no value
//! for email; the audit log tells them apart).

use serde::{Deserialize, Serialize};

/// How a session was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInMethod {
    Passkey {
        /// The credential is backed up (synced between devices).
        synced: bool,
    },
    OneTimeLink,
    /// One of the person's recovery codes (`account::recovery_codes`), a one-time password.
    RecoveryCode,
    /// Approved from another device where the person was signed in. RFC 8176 has no value
    /// for it; the approving session's own method is not carried over, so nothing is claimed.
    OtherDevice,
    /// A one-time code sent to the person's email address (`/login/email`).
    EmailCode,
}

impl SignInMethod {
    /// The RFC 8176 method references.
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            SignInMethod::Passkey { synced: false } => &["hwk", "mfa", "user"],
            SignInMethod::Passkey { synced: true } => &["mfa", "swk", "user"],
            SignInMethod::OneTimeLink | SignInMethod::RecoveryCode | SignInMethod::EmailCode => {
                &["otp"]
            }
            SignInMethod::OtherDevice => &[],
        }
    }

    /// [`SignInMethod::amr`] as the JSON text stored with the session, its codes and grants.
    pub fn amr_json(self) -> String {
        serde_json::to_string(self.amr()).expect("a list of strings serializes")
    }
}

/// The `amr` claim from its stored JSON text (absent when not recorded, as for sessions started
/// before it was).
pub fn amr_claim(stored: Option<&str>) -> Option<Vec<String>> {
    stored
        .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
        .filter(|v| !v.is_empty())
}

/// The `sid` of a session: derived from its stored key, so it is stable for the session and
/// the same for every client, without being that key.
pub fn sid(session_id_hash: &str) -> String {
    let digest = crate::crypto::hash::sha256(format!("sid\0{session_id_hash}").as_bytes());
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &digest[..16],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_name_their_rfc_8176_values() {
        for m in [
            SignInMethod::Passkey { synced: false },
            SignInMethod::Passkey { synced: true },
            SignInMethod::OneTimeLink,
            SignInMethod::RecoveryCode,
            SignInMethod::EmailCode,
        ] {
            assert_eq!(amr_claim(Some(&m.amr_json())).unwrap(), m.amr());
        }
        assert!(SignInMethod::Passkey { synced: true }
            .amr()
            .contains(&"swk"));
        assert!(SignInMethod::Passkey { synced: false }
            .amr()
            .contains(&"hwk"));
        assert_eq!(amr_claim(None), None);
        assert_eq!(amr_claim(Some("not json")), None);
        assert_eq!(amr_claim(Some("[]")), None);
    }

    #[test]
    fn a_sid_is_stable_per_session_and_hides_its_key() {
        assert_eq!(sid("h1"), sid("h1"));
        assert_ne!(sid("h1"), sid("h2"));
        assert_eq!(sid("h1").len(), 22);
        assert!(!sid("h1").contains("h1"));
    }
}
