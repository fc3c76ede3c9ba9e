//! Workers runtime services the pure core abstracts over: the clock and WebCrypto.

pub mod clock;
pub mod webcrypto;
