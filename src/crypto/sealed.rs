//! Short-lived state the browser carries for us between two requests of one flow: a passkey
//! ceremony's challenge (what finishing it does), an authorization request parked while the
//! person signs in, and an authorization request a client pushed (RFC 9126, its
//! `request_uri`). Storing them in D1 cost a round trip to the primary to write and another to
//! read; sealed, they cost none.
//!
//! A sealed value is AES-256-GCM under a key of its own (derived from a subkey of the master
//! key and a random salt it carries), with the kind, the tenant and its holder (the browser's
//! `eid_browser` cookie; for a pushed authorization request, the client that pushed it) as
//! associated data: it opens only for the kind it was made for, on the tenant that made it,
//! for the holder it was given to, and any change to it is detected. Inside are a random id,
//! the expiry and the body. The id makes it single use: the batch that acts on it also records
//! the id as spent (`storage::spent`), on the primary, so two uses cannot both succeed. What
//! the browser sees is ciphertext: nothing inside (a sign-up's profile, a request's nonce) is
//! readable or forgeable by it.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::envelope::MasterKey;
use super::random;

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// What a sealed value is for. Each kind is part of the associated data, so a value of one
/// kind never opens as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedKind {
    /// A passkey ceremony's challenge: the challenge bytes ARE the sealed value.
    Challenge,
    /// An authorization request waiting for the person to sign in or consent.
    Interaction,
    /// An authorization request a client pushed (RFC 9126): its `request_uri`.
    PushedRequest,
    /// An email sign-in code this browser asked for: which code row, for which account.
    EmailCode,
}

impl SealedKind {
    fn label(self) -> &'static str {
        match self {
            SealedKind::Challenge => "challenge",
            SealedKind::Interaction => "interaction",
            SealedKind::PushedRequest => "pushed request",
            SealedKind::EmailCode => "email code",
        }
    }
}

/// Who may open a sealed value: the tenant that sealed it, for the holder it was given to.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub tenant_id: &'a str,
    /// Who may open it besides the tenant: for state the browser carries (challenges, parked
    /// requests), the browser's `eid_browser` cookie value; for a pushed authorization request,
    /// the client_id of the client that pushed it.
    pub holder: &'a str,
}

/// A sealed value opened: its single-use id, its expiry and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened<T> {
    pub id: String,
    pub expires_at: i64,
    pub body: T,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Not something we sealed, tampered with, of another kind, tenant or holder, or sealed
    /// under another master key: indistinguishable on purpose.
    #[error("the sealed value does not open here")]
    Refused,
    #[error("the sealed value has expired")]
    Expired,
}

#[derive(Serialize, Deserialize)]
struct Inner<T> {
    id: String,
    exp: i64,
    body: T,
}

/// Seals and opens browser-carried state with the deployment's master key.
///
/// Every value is sealed under its own key, derived from the sealing subkey and a random salt
/// carried in front of it: one deployment seals a value per sign-in attempt, and AES-GCM with
/// random 96-bit nonces under a single key is only safe up to about 2^32 messages, which a busy
/// deployment could reach. Deriving costs one HMAC per value.
#[derive(Clone)]
pub struct Sealer {
    key: [u8; 32],
}

impl Sealer {
    pub fn new(master: &MasterKey) -> Self {
        Self {
            key: master.derive("sealed browser state v1"),
        }
    }

    /// The AES-256-GCM key of the value with this salt.
    fn cipher(&self, salt: &[u8]) -> Aes256Gcm {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes keys of any length");
        mac.update(salt);
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        Aes256Gcm::new(&key.into())
    }

    fn aad(kind: SealedKind, binding: &Binding<'_>) -> Vec<u8> {
        // NUL-separated: the kind and tenant id cannot contain one, and the holder (a cookie,
        // or a client_id as a request names it) comes last, so whatever it holds cannot move
        // the boundary of another part.
        [
            "edge-id sealed",
            kind.label(),
            binding.tenant_id,
            binding.holder,
        ]
        .join("\0")
        .into_bytes()
    }

    /// Seals `body` for `ttl_secs` from `now`: salt | nonce | ciphertext | tag.
    pub fn seal<T: Serialize>(
        &self,
        kind: SealedKind,
        binding: &Binding<'_>,
        now: i64,
        ttl_secs: i64,
        body: &T,
    ) -> Vec<u8> {
        let inner = Inner {
            id: random::token(),
            exp: now + ttl_secs,
            body,
        };
        let plaintext = serde_json::to_vec(&inner).expect("sealed bodies serialize");
        let salt = random::bytes::<SALT_LEN>();
        let nonce = random::bytes::<NONCE_LEN>();
        let ciphertext = self
            .cipher(&salt)
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &Self::aad(kind, binding),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = salt.to_vec();
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// [`Sealer::seal`] as base64url text, for a URL or a form field.
    pub fn seal_text<T: Serialize>(
        &self,
        kind: SealedKind,
        binding: &Binding<'_>,
        now: i64,
        ttl_secs: i64,
        body: &T,
    ) -> String {
        URL_SAFE_NO_PAD.encode(self.seal(kind, binding, now, ttl_secs, body))
    }

    /// Opens a sealed value of `kind` for `binding`, refusing it from `expires_at` on.
    pub fn open<T: DeserializeOwned>(
        &self,
        kind: SealedKind,
        binding: &Binding<'_>,
        now: i64,
        sealed: &[u8],
    ) -> Result<Opened<T>, SealError> {
        if sealed.len() < SALT_LEN + NONCE_LEN + TAG_LEN {
            return Err(SealError::Refused);
        }
        let (salt, rest) = sealed.split_at(SALT_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Refused)?;
        let plaintext = self
            .cipher(salt)
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &Self::aad(kind, binding),
                },
            )
            .map_err(|_| SealError::Refused)?;
        // Authentic, so well-formed unless our own format changed: refuse rather than fail.
        let inner: Inner<T> = serde_json::from_slice(&plaintext).map_err(|_| SealError::Refused)?;
        if now >= inner.exp {
            return Err(SealError::Expired);
        }
        Ok(Opened {
            id: inner.id,
            expires_at: inner.exp,
            body: inner.body,
        })
    }

    /// [`Sealer::open`] of base64url text.
    pub fn open_text<T: DeserializeOwned>(
        &self,
        kind: SealedKind,
        binding: &Binding<'_>,
        now: i64,
        sealed: &str,
    ) -> Result<Opened<T>, SealError> {
        let raw = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| SealError::Refused)?;
        self.open(kind, binding, now, &raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn sealer(byte: u8) -> Sealer {
        Sealer::new(&MasterKey::from_base64(&STANDARD.encode([byte; 32])).unwrap())
    }

    const HERE: Binding<'static> = Binding {
        tenant_id: "t1",
        holder: "browser-1",
    };

    #[test]
    fn a_sealed_value_opens_once_sealed_until_it_expires() {
        let s = sealer(1);
        let sealed = s.seal_text(SealedKind::Interaction, &HERE, 100, 60, &"hello");
        let opened: Opened<String> = s
            .open_text(SealedKind::Interaction, &HERE, 159, &sealed)
            .unwrap();
        assert_eq!(opened.body, "hello");
        assert_eq!(opened.expires_at, 160);
        assert_eq!(opened.id.len(), 43, "a 256-bit single-use id");
        assert_eq!(
            s.open_text::<String>(SealedKind::Interaction, &HERE, 160, &sealed),
            Err(SealError::Expired)
        );
        // Two seals of the same body differ (salt, so key, nonce and id): nothing links them.
        let again = s.seal_text(SealedKind::Interaction, &HERE, 100, 60, &"hello");
        assert_ne!(again, sealed);
        assert_ne!(again[..22], sealed[..22], "each value has its own salt");
        let second: Opened<String> = s
            .open_text(SealedKind::Interaction, &HERE, 100, &again)
            .unwrap();
        assert_ne!(second.id, opened.id);
    }

    #[test]
    fn another_kind_tenant_holder_or_master_key_cannot_open_it() {
        let s = sealer(1);
        let sealed = s.seal(SealedKind::Challenge, &HERE, 100, 60, &42u32);
        let refused = |r: Result<Opened<u32>, SealError>| assert_eq!(r, Err(SealError::Refused));
        refused(s.open(SealedKind::Interaction, &HERE, 100, &sealed));
        refused(s.open(SealedKind::PushedRequest, &HERE, 100, &sealed));
        let other_tenant = Binding {
            tenant_id: "t2",
            ..HERE
        };
        refused(s.open(SealedKind::Challenge, &other_tenant, 100, &sealed));
        let other_browser = Binding {
            holder: "browser-2",
            ..HERE
        };
        refused(s.open(SealedKind::Challenge, &other_browser, 100, &sealed));
        refused(sealer(2).open(SealedKind::Challenge, &HERE, 100, &sealed));
        assert_eq!(
            s.open::<u32>(SealedKind::Challenge, &HERE, 100, &sealed)
                .unwrap()
                .body,
            42
        );
    }

    #[test]
    fn tampered_truncated_or_garbage_values_are_refused() {
        let s = sealer(1);
        let sealed = s.seal(SealedKind::Challenge, &HERE, 100, 60, &"x");
        for i in [0, SALT_LEN, SALT_LEN + NONCE_LEN, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(
                s.open::<String>(SealedKind::Challenge, &HERE, 100, &bad),
                Err(SealError::Refused),
                "byte {i} flipped"
            );
        }
        for bad in [
            &sealed[..sealed.len() - 1],
            &sealed[..SALT_LEN + NONCE_LEN + TAG_LEN - 1],
            &[],
        ] {
            assert_eq!(
                s.open::<String>(SealedKind::Challenge, &HERE, 100, bad),
                Err(SealError::Refused)
            );
        }
        for text in ["", "not base64!", "AAAA"] {
            assert_eq!(
                s.open_text::<String>(SealedKind::Challenge, &HERE, 100, text),
                Err(SealError::Refused)
            );
        }
        // Authentic but of another shape: refused, not a panic.
        assert_eq!(
            s.open::<u32>(SealedKind::Challenge, &HERE, 100, &sealed),
            Err(SealError::Refused)
        );
    }
}
