//! WebAuthn ceremonies between a real software authenticator (passkey-client +
//! passkey-authenticator from 1Password's passkey-rs) and Edge ID's relying party.
//!
//! passkey-client, like a browser, insists on https origins for non-"localhost" RP IDs, so these
//! tests use production-style tenant hosts.

use edge_id::passkey::{
    client_data_challenge, creation_options, parse_assertion, request_options, verify_assertion,
    verify_registration, PasskeyError, RegisteredPasskey, RelyingParty, StoredPasskey, UserEntity,
};
use passkey_authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey_client::{Client, DefaultClientData};
use passkey_types::ctap2::Aaguid;
use passkey_types::webauthn::{
    CredentialCreationOptions, CredentialRequestOptions, PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
};
use passkey_types::{ctap2::Ctap2Error, Passkey};
use serde_json::Value;
use url::Url;

type SoftClient = Client<
    Option<Passkey>,
    AlwaysVerified,
    passkey_crypto::AvailableBackend,
    public_suffix::PublicSuffixList,
    (),
>;

/// A user who is always present and verified (a platform authenticator after a successful
/// fingerprint check). Each authenticator holds one discoverable credential.
struct AlwaysVerified;

#[async_trait::async_trait]
impl UserValidationMethod for AlwaysVerified {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

fn rp(slug: &str) -> RelyingParty {
    RelyingParty {
        id: format!("{slug}.id.example.com"),
        name: slug.into(),
        origin: format!("https://{slug}.id.example.com"),
    }
}

fn new_client() -> SoftClient {
    let authenticator = Authenticator::new(
        Aaguid::new_empty(),
        None,
        AlwaysVerified,
        passkey_crypto::AvailableBackend,
    );
    Client::new(authenticator)
}

/// passkey-types serializes binary fields as arrays of numbers; browsers' `toJSON()` emits
/// base64url strings. Convert to what a browser would POST.
fn browser_json(mut value: Value) -> Value {
    fn b64(v: &mut Value) {
        if let Value::Array(items) = v {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|i| i.as_u64().map(|n| n as u8))
                .collect();
            *v = Value::String(base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                bytes,
            ));
        }
    }
    b64(&mut value["rawId"]);
    for field in [
        "clientDataJSON",
        "attestationObject",
        "authenticatorData",
        "signature",
        "userHandle",
    ] {
        if let Some(v) = value["response"].get_mut(field) {
            b64(v);
        }
    }
    value
}

fn origin(rp: &RelyingParty) -> Url {
    Url::parse(&rp.origin).unwrap()
}

async fn register(client: &mut SoftClient, rp: &RelyingParty, challenge: &[u8]) -> Value {
    let user = UserEntity {
        id: b"user-1".to_vec(),
        name: "ada".into(),
        display_name: "Ada Lovelace".into(),
    };
    let options: PublicKeyCredentialCreationOptions =
        serde_json::from_value(creation_options(rp, &user, challenge, &[], 60_000)).unwrap();
    let created = client
        .register(
            &origin(rp),
            CredentialCreationOptions {
                public_key: options,
            },
            DefaultClientData,
        )
        .await
        .expect("the authenticator registers");
    browser_json(serde_json::to_value(created).unwrap())
}

async fn login(client: &mut SoftClient, rp: &RelyingParty, challenge: &[u8]) -> Value {
    let options: PublicKeyCredentialRequestOptions =
        serde_json::from_value(request_options(rp, challenge, &[], 60_000)).unwrap();
    let asserted = client
        .authenticate(
            &origin(rp),
            CredentialRequestOptions {
                public_key: options,
            },
            DefaultClientData,
        )
        .await
        .expect("the authenticator signs");
    browser_json(serde_json::to_value(asserted).unwrap())
}

async fn registered(client: &mut SoftClient, rp: &RelyingParty) -> RegisteredPasskey {
    let challenge = [7u8; 32];
    let response = register(client, rp, &challenge).await;
    verify_registration(rp, &challenge, &response).expect("registration verifies")
}

fn stored(p: &RegisteredPasskey, count: u32) -> StoredPasskey<'_> {
    StoredPasskey {
        public_key_cose: &p.public_key_cose,
        sign_count: count,
    }
}

#[tokio::test]
async fn register_then_sign_in_usernameless() {
    let rp = rp("acme");
    let mut client = new_client();
    let passkey = registered(&mut client, &rp).await;
    assert_eq!(
        passkey.algorithm, -7,
        "the software authenticator makes ES256 keys"
    );
    assert_eq!(passkey.attestation_format, "none");

    let challenge = [9u8; 32];
    let response = login(&mut client, &rp, &challenge).await;
    assert_eq!(client_data_challenge(&response).unwrap(), challenge);
    let assertion = parse_assertion(&response).unwrap();
    assert_eq!(assertion.credential_id, passkey.credential_id);
    assert_eq!(assertion.user_handle.as_deref(), Some(&b"user-1"[..]));
    let outcome = verify_assertion(
        &rp,
        &challenge,
        &assertion,
        stored(&passkey, passkey.sign_count),
    )
    .expect("assertion verifies");
    assert_eq!(outcome.sign_count, 0);
}

#[tokio::test]
async fn registration_rejects_wrong_challenge_origin_and_rp() {
    let rp_a = rp("acme");
    let mut client = new_client();
    let response = register(&mut client, &rp_a, &[1u8; 32]).await;
    assert_eq!(
        verify_registration(&rp_a, &[2u8; 32], &response).unwrap_err(),
        PasskeyError::ChallengeMismatch
    );
    let other_origin = RelyingParty {
        origin: "https://evil.example.net".into(),
        ..rp_a.clone()
    };
    assert_eq!(
        verify_registration(&other_origin, &[1u8; 32], &response).unwrap_err(),
        PasskeyError::OriginMismatch
    );
    let other_rp_same_origin = RelyingParty {
        id: "beta.id.example.com".into(),
        ..rp_a.clone()
    };
    assert_eq!(
        verify_registration(&other_rp_same_origin, &[1u8; 32], &response).unwrap_err(),
        PasskeyError::RpIdMismatch
    );
}

#[tokio::test]
async fn assertion_rejections() {
    let rp_a = rp("acme");
    let mut client = new_client();
    let passkey = registered(&mut client, &rp_a).await;
    let challenge = [3u8; 32];
    let response = login(&mut client, &rp_a, &challenge).await;
    let assertion = parse_assertion(&response).unwrap();

    // Wrong challenge (a stale or replayed response against a fresh challenge).
    assert_eq!(
        verify_assertion(&rp_a, &[4u8; 32], &assertion, stored(&passkey, 0)).unwrap_err(),
        PasskeyError::ChallengeMismatch
    );
    // Wrong origin.
    let evil = RelyingParty {
        origin: "https://acme.id.example.com.evil.net".into(),
        ..rp_a.clone()
    };
    assert_eq!(
        verify_assertion(&evil, &challenge, &assertion, stored(&passkey, 0)).unwrap_err(),
        PasskeyError::OriginMismatch
    );
    // Cross-tenant: tenant B (same deployment, its own RP ID and origin) refuses it.
    let rp_b = rp("beta");
    let as_b = RelyingParty {
        origin: rp_a.origin.clone(),
        ..rp_b
    };
    assert_eq!(
        verify_assertion(&as_b, &challenge, &assertion, stored(&passkey, 0)).unwrap_err(),
        PasskeyError::RpIdMismatch
    );
    // A different credential's key (the "unknown credential" case once looked up wrongly).
    let mut other_client = new_client();
    let other = registered(&mut other_client, &rp_a).await;
    assert_eq!(
        verify_assertion(&rp_a, &challenge, &assertion, stored(&other, 0)).unwrap_err(),
        PasskeyError::BadSignature
    );
    // Counter regression: the stored counter is ahead of what the authenticator reports.
    assert_eq!(
        verify_assertion(&rp_a, &challenge, &assertion, stored(&passkey, 5)).unwrap_err(),
        PasskeyError::CounterRegression
    );
    // A registration response is not an assertion (type check).
    let reg = register(&mut new_client(), &rp_a, &challenge).await;
    assert!(parse_assertion(&reg).is_err());
}

#[tokio::test]
async fn tampered_signature_and_client_data_are_refused() {
    let rp_a = rp("acme");
    let mut client = new_client();
    let passkey = registered(&mut client, &rp_a).await;
    let challenge = [5u8; 32];
    let mut response = login(&mut client, &rp_a, &challenge).await;
    let sig = response["response"]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    let mut chars: Vec<char> = sig.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    response["response"]["signature"] = Value::String(chars.into_iter().collect());
    let assertion = parse_assertion(&response).unwrap();
    assert_eq!(
        verify_assertion(&rp_a, &challenge, &assertion, stored(&passkey, 0)).unwrap_err(),
        PasskeyError::BadSignature
    );
}
