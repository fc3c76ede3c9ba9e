//! The clock. On wasm32 `SystemTime::now()` panics, so the Workers clock is read through JS;
//! natively (tests) it is the system clock.

/// Unix time in seconds.
pub fn now() -> i64 {
    (now_ms() / 1000.0) as i64
}

/// Unix time in milliseconds (for measurements and cache ages).
#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Unix time in milliseconds (for measurements and cache ages).
#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
