//! Cryptographic building blocks that do not depend on the Workers runtime.
//!
//! Signing itself happens through WebCrypto in the Worker (`http::signer`), because RS256 in
//! pure Rust costs ~8 ms of CPU per signature in workerd against ~0.5 ms in `crypto.subtle`.
//! What lives here is everything around it: randomness, token hashing, the envelope that keeps
//! private keys encrypted at rest, JWK thumbprints, JWS assembly, and signatures to verify as
//! plain data ([`signature`]; the Worker verifies them with WebCrypto).

pub mod envelope;
pub mod hash;
pub mod jwk;
pub mod jws;
pub mod random;
pub mod sealed;
pub mod signature;
