//! The options the browser passes to `navigator.credentials.create()` / `.get()`, in the
//! WebAuthn Level 3 JSON form (`PublicKeyCredential.parseCreationOptionsFromJSON`).

use serde_json::{json, Value};

use super::b64::encode;
use super::{RelyingParty, UserEntity, SUPPORTED_ALGORITHMS};

fn descriptors(ids: &[Vec<u8>]) -> Vec<Value> {
    ids.iter()
        .map(|id| json!({ "type": "public-key", "id": encode(id) }))
        .collect()
}

/// Registration options: a discoverable credential (usernameless sign-in needs it), user
/// verification required, no attestation (we do not gate on authenticator make).
pub fn creation_options(
    rp: &RelyingParty,
    user: &UserEntity,
    challenge: &[u8],
    exclude_credentials: &[Vec<u8>],
    timeout_ms: u32,
) -> Value {
    json!({
        "rp": { "id": rp.id, "name": rp.name },
        "user": { "id": encode(&user.id), "name": user.name, "displayName": user.display_name },
        "challenge": encode(challenge),
        "pubKeyCredParams": SUPPORTED_ALGORITHMS
            .iter()
            .map(|alg| json!({ "type": "public-key", "alg": alg }))
            .collect::<Vec<_>>(),
        "timeout": timeout_ms,
        "excludeCredentials": descriptors(exclude_credentials),
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": true,
            "userVerification": "required"
        },
        "attestation": "none",
        "hints": [],
        "extensions": { "credProps": true }
    })
}

/// Sign-in options; an empty allow list asks for any discoverable credential of this RP.
pub fn request_options(
    rp: &RelyingParty,
    challenge: &[u8],
    allow_credentials: &[Vec<u8>],
    timeout_ms: u32,
) -> Value {
    json!({
        "rpId": rp.id,
        "challenge": encode(challenge),
        "timeout": timeout_ms,
        "allowCredentials": descriptors(allow_credentials),
        "userVerification": "required"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp() -> RelyingParty {
        RelyingParty {
            id: "acme.localhost".into(),
            name: "Acme".into(),
            origin: "http://acme.localhost:8787".into(),
        }
    }

    #[test]
    fn creation_options_require_discoverable_uv_credentials() {
        let user = UserEntity {
            id: vec![1, 2, 3],
            name: "ada".into(),
            display_name: "Ada".into(),
        };
        let o = creation_options(&rp(), &user, b"challenge-bytes", &[vec![9]], 60_000);
        assert_eq!(o["rp"]["id"], "acme.localhost");
        assert_eq!(o["user"]["id"], "AQID");
        assert_eq!(o["authenticatorSelection"]["residentKey"], "required");
        assert_eq!(o["authenticatorSelection"]["userVerification"], "required");
        assert_eq!(o["pubKeyCredParams"][0]["alg"], -7);
        assert_eq!(o["pubKeyCredParams"][2]["alg"], -257);
        assert_eq!(o["excludeCredentials"][0]["id"], "CQ");
    }

    #[test]
    fn request_options_are_usernameless_by_default() {
        let o = request_options(&rp(), b"c", &[], 60_000);
        assert_eq!(o["rpId"], "acme.localhost");
        assert_eq!(o["allowCredentials"].as_array().unwrap().len(), 0);
        assert_eq!(o["userVerification"], "required");
    }
}
