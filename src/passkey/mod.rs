//! The WebAuthn relying party, free of Workers types.
