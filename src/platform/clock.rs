//! Time on wasm32: `SystemTime::now()` panics there, so the Workers clock is read through JS.

/// Unix time in seconds.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Unix time in milliseconds (for measurements).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
