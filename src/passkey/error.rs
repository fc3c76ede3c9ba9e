//! Every reason a ceremony is refused, typed, with the sentence a person sees.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    #[error("malformed credential: {0}")]
    Malformed(&'static str),
    #[error("client data type is not the expected ceremony")]
    WrongType,
    #[error("challenge does not match")]
    ChallengeMismatch,
    #[error("origin does not match")]
    OriginMismatch,
    #[error("cross-origin ceremonies are not accepted")]
    CrossOrigin,
    #[error("RP ID hash does not match")]
    RpIdMismatch,
    #[error("user presence flag not set")]
    UserNotPresent,
    #[error("user verification flag not set")]
    UserNotVerified,
    #[error("unsupported public key algorithm")]
    UnsupportedAlgorithm,
    #[error("signature does not verify")]
    BadSignature,
    #[error("signature counter went backwards (possible cloned authenticator)")]
    CounterRegression,
    #[error("unsupported attestation format")]
    UnsupportedAttestation,
    #[error("attestation statement does not verify")]
    BadAttestation,
    #[error("credential id mismatch")]
    CredentialMismatch,
}

impl PasskeyError {
    /// What the login page says. Deliberately vague about internals (an attacker learns
    /// nothing), precise about what the person can do.
    pub fn user_message(&self) -> &'static str {
        match self {
            PasskeyError::ChallengeMismatch => "This sign-in attempt expired. Please try again.",
            PasskeyError::OriginMismatch
            | PasskeyError::RpIdMismatch
            | PasskeyError::CrossOrigin => {
                "This passkey belongs to a different site. Use a passkey made for this address."
            }
            PasskeyError::UserNotVerified | PasskeyError::UserNotPresent => {
                "Your device did not verify you (PIN, fingerprint or face). Please try again."
            }
            PasskeyError::UnsupportedAlgorithm | PasskeyError::UnsupportedAttestation => {
                "This authenticator is not supported. Try another passkey provider."
            }
            PasskeyError::CounterRegression => {
                "This passkey looks cloned and was refused. Contact your administrator."
            }
            _ => "The passkey response could not be verified. Please try again.",
        }
    }
}
