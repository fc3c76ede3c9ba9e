//! `id_token_hint`: an id_token this provider issued, presented back by a client (at
//! `/authorize` and at the end-session endpoint). Its signature must verify against the
//! tenant's published keys and its issuer must be the tenant; its expiry does not matter
//! (OIDC Core §3.1.2.1).

use super::logout::Hint;
use crate::crypto::jwk::Jwks;
use crate::crypto::jws;

pub fn verify(token: Option<&str>, jwks: &Jwks, issuer: &str) -> Hint {
    let Some(token) = token else {
        return Hint::Absent;
    };
    let Ok(claims) = jws::verify(token, jwks) else {
        return Hint::Invalid;
    };
    if claims.get("iss").and_then(|v| v.as_str()) != Some(issuer) {
        return Hint::Invalid;
    }
    let sub = claims.get("sub").and_then(|v| v.as_str());
    let client_id = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => Some(a.as_str()),
        Some(serde_json::Value::Array(list)) => list.first().and_then(|a| a.as_str()),
        _ => None,
    };
    match (sub, client_id) {
        (Some(sub), Some(client_id)) => Hint::Valid {
            sub: sub.to_string(),
            client_id: client_id.to_string(),
        },
        _ => Hint::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_garbage() {
        let jwks = Jwks { keys: vec![] };
        assert_eq!(verify(None, &jwks, "https://a"), Hint::Absent);
        assert_eq!(verify(Some("x.y.z"), &jwks, "https://a"), Hint::Invalid);
        // alg:none is refused before any key lookup.
        let none = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2EiLCJzdWIiOiJ1IiwiYXVkIjoiYyJ9.";
        assert_eq!(verify(Some(none), &jwks, "https://a"), Hint::Invalid);
    }
}
