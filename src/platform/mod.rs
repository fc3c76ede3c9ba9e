//! Workers runtime services the pure core abstracts over: the clock and WebCrypto. The clock
//! also compiles natively, so storage and use cases run in native tests.

pub mod clock;
#[cfg(target_arch = "wasm32")]
pub mod webcrypto;
#[cfg(target_arch = "wasm32")]
pub mod webcrypto_verify;
