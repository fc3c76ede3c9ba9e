//! Queue message bodies: what a producer sent as JSON, read back into its type.

use serde::de::DeserializeOwned;

/// A message body as sent (JSON), read through its JSON text.
pub fn read<T: DeserializeOwned>(body: &wasm_bindgen::JsValue) -> Result<T, String> {
    let text = js_sys::JSON::stringify(body)
        .map_err(|_| "not JSON".to_string())?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| e.to_string())
}
