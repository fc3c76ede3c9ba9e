//! The WebAuthn relying party (WebAuthn Level 3 §7), free of Workers types.
//!
//! `passkey-types` gives WebAuthn's data types but no verification, so the checks live here:
//! client data (type, challenge, origin), authenticator data (RP ID hash, UP/UV/BE/BS flags,
//! counter), attestation (`none` and `packed` self-attestation) and signatures (ES256, EdDSA,
//! RS256). Challenges are issued and consumed by the caller (single use, in D1); this module
//! only compares what the browser echoed with what the caller expected.

mod assertion;
mod authenticator_data;
mod b64;
mod client_data;
mod cose_key;
mod error;
mod options;
mod registration;

#[cfg(not(target_arch = "wasm32"))]
pub use assertion::verify_assertion;
pub use assertion::{
    check_assertion, parse_assertion, AssertionOutcome, CheckedAssertion, ParsedAssertion,
    StoredPasskey,
};
pub use authenticator_data::{AttestedCredential, AuthenticatorData};
pub use client_data::{client_data_challenge, ClientData};
pub use cose_key::PublicKey;
pub use error::PasskeyError;
pub use options::{creation_options, request_options};
#[cfg(not(target_arch = "wasm32"))]
pub use registration::verify_registration;
pub use registration::{
    check_registration, parse_attestation_object, AttestationObject, CheckedRegistration,
    RegisteredPasskey,
};

/// The relying party a ceremony is for: one tenant host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// The RP ID: the tenant's host name without port (`acme.id.example.com`).
    pub id: String,
    pub name: String,
    /// The exact origin pages are served from (`https://acme.id.example.com`).
    pub origin: String,
}

/// The account a new credential is created for.
#[derive(Debug, Clone)]
pub struct UserEntity {
    /// The opaque user handle (at most 64 bytes; never personal data).
    pub id: Vec<u8>,
    pub name: String,
    pub display_name: String,
}

/// COSE algorithm identifiers this RP accepts, in order of preference.
pub const ES256: i64 = -7;
pub const EDDSA: i64 = -8;
pub const RS256: i64 = -257;
pub const SUPPORTED_ALGORITHMS: [i64; 3] = [ES256, EDDSA, RS256];
