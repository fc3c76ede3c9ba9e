//! Fixtures shared by the fuzz targets: the relying party and tenant a request is checked
//! against, fixed keys (so seeds can carry real signatures the fuzzer then mutates), the
//! registered clients, and builders for the seed inputs in `corpus/<target>/seed-*`.
//!
//! `cargo test --manifest-path fuzz/Cargo.toml` checks that the committed seeds still take the
//! happy path through the real code (otherwise the fuzzer would start from dead ends), and
//! `cargo test --manifest-path fuzz/Cargo.toml -- --ignored write_seeds` rewrites them.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use coset::iana;
use coset::{CborSerializable, CoseKeyBuilder};
use edge_id::crypto::jwk::{Jwks, PublicJwk, SigningAlg};
use edge_id::crypto::jws;
use edge_id::oidc::client::Client;
use edge_id::passkey::RelyingParty;
use p256::ecdsa::signature::Signer;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const RP_ID: &str = "acme.id.example.com";
pub const ORIGIN: &str = "https://acme.id.example.com";
/// The tenant's issuer (what `id_token_hint` must name).
pub const ISSUER: &str = "https://acme.id.example.com";
/// The challenge the server "issued" for every ceremony seed.
pub const CHALLENGE: [u8; 32] = *b"fuzz-challenge-0123456789abcdef!";
pub const REDIRECT_URI: &str = "https://app.example.com/cb";
pub const POST_LOGOUT_URI: &str = "https://app.example.com/bye";
pub const CLIENT_SECRET: &str = "s3cret";
/// The time the fuzzed requests are judged at.
pub const NOW: i64 = 1_700_000_000;
/// RFC 7636 Appendix B.
pub const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The RFC 7638 example modulus: a real 2048-bit RSA public key (e = 65537).
pub const RSA_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

pub fn rp() -> RelyingParty {
    RelyingParty {
        id: RP_ID.into(),
        name: "Acme".into(),
        origin: ORIGIN.into(),
    }
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The passkey's private key (P-256, fixed so signatures in seeds are reproducible: p256 signs
/// deterministically, RFC 6979).
pub fn passkey_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("valid scalar")
}

/// The tenant's ES256 id_token signing key.
pub fn token_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[11u8; 32]).expect("valid scalar")
}

pub fn es256_cose_key(sk: &p256::ecdsa::SigningKey) -> Vec<u8> {
    let point = sk.verifying_key().to_encoded_point(false);
    CoseKeyBuilder::new_ec2_pub_key(
        iana::EllipticCurve::P_256,
        point.x().expect("uncompressed").to_vec(),
        point.y().expect("uncompressed").to_vec(),
    )
    .algorithm(iana::Algorithm::ES256)
    .build()
    .to_vec()
    .expect("COSE key encodes")
}

pub fn eddsa_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[9u8; 32])
}

pub fn eddsa_cose_key() -> Vec<u8> {
    CoseKeyBuilder::new_okp_key()
        .param(
            iana::OkpKeyParameter::Crv as i64,
            ciborium::value::Value::from(iana::EllipticCurve::Ed25519 as i64),
        )
        .param(
            iana::OkpKeyParameter::X as i64,
            ciborium::value::Value::Bytes(eddsa_key().verifying_key().to_bytes().to_vec()),
        )
        .algorithm(iana::Algorithm::EdDSA)
        .build()
        .to_vec()
        .expect("COSE key encodes")
}

pub fn rs256_cose_key() -> Vec<u8> {
    let n = URL_SAFE_NO_PAD.decode(RSA_N).expect("base64url");
    CoseKeyBuilder::new()
        .key_type(iana::KeyType::RSA)
        .param(
            iana::RsaKeyParameter::N as i64,
            ciborium::value::Value::Bytes(n),
        )
        .param(
            iana::RsaKeyParameter::E as i64,
            ciborium::value::Value::Bytes(vec![1, 0, 1]),
        )
        .algorithm(iana::Algorithm::RS256)
        .build()
        .to_vec()
        .expect("COSE key encodes")
}

pub const FLAG_UP: u8 = 0x01;
pub const FLAG_UV: u8 = 0x04;
pub const FLAG_AT: u8 = 0x40;

/// Authenticator data for `rp_id`; with `attested` (credential id, COSE key) the AT flag is set.
pub fn authenticator_data(
    rp_id: &str,
    flags: u8,
    count: u32,
    attested: Option<(&[u8], &[u8])>,
) -> Vec<u8> {
    let mut v = Sha256::digest(rp_id.as_bytes()).to_vec();
    v.push(if attested.is_some() {
        flags | FLAG_AT
    } else {
        flags
    });
    v.extend_from_slice(&count.to_be_bytes());
    if let Some((id, key)) = attested {
        v.extend_from_slice(&[0xAD; 16]); // AAGUID
        v.extend_from_slice(&(id.len() as u16).to_be_bytes());
        v.extend_from_slice(id);
        v.extend_from_slice(key);
    }
    v
}

pub fn client_data_json(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": kind,
        "challenge": b64url(challenge),
        "origin": origin,
        "crossOrigin": false,
    }))
    .expect("JSON")
}

pub const CREDENTIAL_ID: &[u8] = b"fuzz-credential-id-0001";

fn cbor(value: &ciborium::value::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("CBOR encodes");
    out
}

/// An attestationObject: `none`, or `packed` self-attestation signed by the passkey key.
pub fn attestation_object(packed: bool, client_data: &[u8]) -> Vec<u8> {
    use ciborium::value::Value as C;
    let key = es256_cose_key(&passkey_key());
    let auth_data = authenticator_data(RP_ID, FLAG_UP | FLAG_UV, 0, Some((CREDENTIAL_ID, &key)));
    let stmt = if packed {
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(client_data));
        let sig: p256::ecdsa::Signature = passkey_key().sign(&signed);
        C::Map(vec![
            (C::Text("alg".into()), C::Integer((-7).into())),
            (
                C::Text("sig".into()),
                C::Bytes(sig.to_der().as_bytes().to_vec()),
            ),
        ])
    } else {
        C::Map(vec![])
    };
    cbor(&C::Map(vec![
        (
            C::Text("fmt".into()),
            C::Text(if packed { "packed" } else { "none" }.into()),
        ),
        (C::Text("attStmt".into()), stmt),
        (C::Text("authData".into()), C::Bytes(auth_data)),
    ]))
}

/// A `RegistrationResponseJSON` as the browser POSTs it.
pub fn registration_json(packed: bool) -> Value {
    let cdj = client_data_json("webauthn.create", &CHALLENGE, ORIGIN);
    let att = attestation_object(packed, &cdj);
    json!({
        "id": b64url(CREDENTIAL_ID),
        "rawId": b64url(CREDENTIAL_ID),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(&cdj),
            "attestationObject": b64url(&att),
            "transports": ["internal", "hybrid"],
        },
        "clientExtensionResults": { "credProps": { "rk": true } },
    })
}

/// An `AuthenticationResponseJSON` signed by the passkey key, with the given counter.
pub fn assertion_json(count: u32) -> Value {
    let cdj = client_data_json("webauthn.get", &CHALLENGE, ORIGIN);
    let auth_data = authenticator_data(RP_ID, FLAG_UP | FLAG_UV, count, None);
    let mut signed = auth_data.clone();
    signed.extend_from_slice(&Sha256::digest(&cdj));
    let sig: p256::ecdsa::Signature = passkey_key().sign(&signed);
    json!({
        "id": b64url(CREDENTIAL_ID),
        "rawId": b64url(CREDENTIAL_ID),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(&cdj),
            "authenticatorData": b64url(&auth_data),
            "signature": b64url(sig.to_der().as_bytes()),
            "userHandle": b64url(b"user-1"),
        },
    })
}

/// The tenant's published keys (built once: targets call this on every input).
pub fn jwks() -> &'static Jwks {
    static JWKS: std::sync::OnceLock<Jwks> = std::sync::OnceLock::new();
    JWKS.get_or_init(build_jwks)
}

/// The passkey's stored COSE key (built once).
pub fn stored_passkey_cose() -> &'static [u8] {
    static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| es256_cose_key(&passkey_key()))
}

/// The tenant's published keys: the ES256 key seeds are signed with, and an RS256 key.
fn build_jwks() -> Jwks {
    let point = token_key().verifying_key().to_encoded_point(false);
    let es = PublicJwk {
        kty: "EC".into(),
        kid: String::new(),
        key_use: None,
        alg: None,
        n: None,
        e: None,
        crv: Some("P-256".into()),
        x: Some(b64url(point.x().expect("uncompressed"))),
        y: Some(b64url(point.y().expect("uncompressed"))),
    }
    .published(SigningAlg::ES256)
    .expect("EC JWK");
    let rs = PublicJwk {
        kty: "RSA".into(),
        kid: String::new(),
        key_use: None,
        alg: None,
        n: Some(RSA_N.into()),
        e: Some("AQAB".into()),
        crv: None,
        x: None,
        y: None,
    }
    .published(SigningAlg::RS256)
    .expect("RSA JWK");
    Jwks { keys: vec![es, rs] }
}

/// An id_token signed with the tenant's ES256 key, as the Worker signs them.
pub fn id_token(claims: &Value) -> String {
    let kid = jwks().keys[0].kid.clone();
    let input = jws::signing_input(SigningAlg::ES256, &kid, "JWT", claims);
    let sig: p256::ecdsa::Signature = token_key().sign(input.as_bytes());
    jws::compact(&input, &sig.to_bytes())
}

pub fn id_token_claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "user-1", "aud": "app", "exp": 1_700_003_600,
        "iat": 1_700_000_000, "auth_time": 1_700_000_000, "nonce": "n-0S6_WzA2Mj",
    })
}

/// The registered clients a request may name: confidential, public (PKCE required), and one
/// that allows plain PKCE.
pub fn clients() -> [Client; 3] {
    let base = Client {
        id: "app".into(),
        name: "App".into(),
        secrets: vec![edge_id::oidc::client::ClientSecret {
            id: "secret-1".into(),
            hash: edge_id::crypto::hash::secret_hash(CLIENT_SECRET),
            created_at: NOW - 10,
            expires_at: None,
        }],
        is_public: false,
        pkce_required: false,
        allow_plain_pkce: false,
        redirect_uris: vec![REDIRECT_URI.into(), "http://localhost:3000/cb?x=1".into()],
        post_logout_redirect_uris: vec![
            POST_LOGOUT_URI.into(),
            "https://app.example.com/bye?from=idp".into(),
        ],
        claims_in_id_token: false,
        id_token_alg: SigningAlg::RS256,
        require_consent: false,
        allowed_groups: vec![],
        tokens: Default::default(),
        require_pushed_requests: false,
        auth_method: edge_id::oidc::client::AuthMethod::ClientSecretBasic,
        keys: None,
        federated: vec![],
        backchannel_logout_uri: None,
        backchannel_logout_session_required: false,
    };
    let public = Client {
        secrets: vec![],
        auth_method: edge_id::oidc::client::AuthMethod::None,
        is_public: true,
        ..base.clone()
    };
    let plain = Client {
        pkce_required: true,
        allow_plain_pkce: true,
        ..base.clone()
    };
    [base, public, plain]
}

/// A protocol error caused by a request must be the client's fault (4xx, never a 5xx), and the
/// `WWW-Authenticate` header it may produce must be a valid header value (the Workers runtime
/// throws on a CR, LF or NUL, which would turn the answer into a 500).
pub fn check_oauth_error(e: &edge_id::oidc::error::OAuthError) {
    assert!((400..500).contains(&e.http_status()), "{e:?}");
    assert!(!e.description.is_empty());
    if let Some(h) = e.www_authenticate(ISSUER) {
        assert!(
            !h.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0),
            "{h:?}"
        );
    }
}

/// The Worker's `form_value`: the first value of `name`, absent when empty.
pub fn form_value<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `Authorization: Basic` for the given id and secret, form-urlencoded as RFC 6749 App. B says.
pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// Splits `data` at its first newline: (header line, rest). How targets that take a header and
/// a body read their input.
pub fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// A 2-byte big-endian length prefix, then that many bytes, then the rest.
pub fn split_prefixed(data: &[u8]) -> (&[u8], &[u8]) {
    if data.len() < 2 {
        return (data, &[]);
    }
    let n = (usize::from(data[0]) << 8 | usize::from(data[1])).min(data.len() - 2);
    (&data[2..2 + n], &data[2 + n..])
}

pub fn prefixed(first: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut v = (first.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(first);
    v.extend_from_slice(rest);
    v
}

/// Every seed: (target, file name, bytes).
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out: Vec<(&'static str, String, Vec<u8>)> = Vec::new();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| {
        out.push((target, format!("seed-{name}"), bytes));
    };
    let token = id_token(&id_token_claims());

    // authorize: a selector byte (which registered client) then the query string.
    for (i, (name, query)) in [
        ("code", format!("client_id=app&redirect_uri={}&response_type=code&scope=openid%20email%20profile&state=xyz&nonce=n-0S6", enc(REDIRECT_URI))),
        ("pkce-s256", format!("client_id=app&redirect_uri={}&response_type=code&scope=openid+groups+offline_access&code_challenge={PKCE_CHALLENGE}&code_challenge_method=S256&response_mode=form_post&prompt=login+consent&max_age=300", enc(REDIRECT_URI))),
        ("pkce-plain", format!("client_id=app&redirect_uri={}&response_type=code&scope=openid&code_challenge={PKCE_VERIFIER}&prompt=none&login_hint=ada&id_token_hint={token}", enc("http://localhost:3000/cb?x=1"))),
        ("errors", format!("client_id=app&redirect_uri={}&response_type=token&scope=email&state=s&state=t&request=x&response_mode=fragment", enc(REDIRECT_URI))),
    ]
    .into_iter()
    .enumerate()
    {
        let mut bytes = vec![i as u8];
        bytes.extend_from_slice(query.as_bytes());
        add("authorize", name, bytes);
    }

    // token_form: the Authorization header line, then the form body.
    add("token_form", "code-basic", format!("{}\ngrant_type=authorization_code&code=abc123&redirect_uri={}&code_verifier={PKCE_VERIFIER}", basic("app", CLIENT_SECRET), enc(REDIRECT_URI)).into_bytes());
    add("token_form", "code-post", format!("\ngrant_type=authorization_code&code=abc123&redirect_uri={}&client_id=app&client_secret={CLIENT_SECRET}", enc(REDIRECT_URI)).into_bytes());
    add(
        "token_form",
        "refresh",
        format!(
            "{}\ngrant_type=refresh_token&refresh_token=rt-123&scope=openid+email",
            basic("app", CLIENT_SECRET)
        )
        .into_bytes(),
    );
    add(
        "token_form",
        "introspect",
        "\ntoken=at-123&token_type_hint=refresh_token&client_id=app"
            .to_string()
            .into_bytes(),
    );

    // basic_auth: header line, then form client_id, then form client_secret (one per line).
    add(
        "basic_auth",
        "raw",
        format!("{}\n\n", basic("app", "p@ss:w%rd")).into_bytes(),
    );
    add(
        "basic_auth",
        "encoded",
        format!("{}\napp\n", basic("app", "p%40ss%3Aw%25rd")).into_bytes(),
    );
    add(
        "basic_auth",
        "post",
        format!("\napp\n{CLIENT_SECRET}").into_bytes(),
    );

    // host: one Host header per seed.
    for (name, h) in [
        ("tenant", "acme.id.example.com"),
        ("local", "Demo.LocalHost:8787"),
        ("custom", "login.acme.org."),
        ("ip", "127.0.0.1:8787"),
    ] {
        add("host", name, h.as_bytes().to_vec());
    }

    add(
        "client_data",
        "create",
        client_data_json("webauthn.create", &CHALLENGE, ORIGIN),
    );
    add(
        "client_data",
        "get",
        client_data_json("webauthn.get", &CHALLENGE, ORIGIN),
    );
    add(
        "client_data",
        "chrome",
        format!(r#"{{"type":"webauthn.get","challenge":"{}","origin":"{ORIGIN}","crossOrigin":false,"other_keys_can_be_added_here":"do not compare clientDataJSON against a template. See https://goo.gl/yabPex"}}"#, b64url(&CHALLENGE)).into_bytes(),
    );

    let key = es256_cose_key(&passkey_key());
    add(
        "authenticator_data",
        "assertion",
        authenticator_data(RP_ID, FLAG_UP | FLAG_UV, 7, None),
    );
    add(
        "authenticator_data",
        "attested-es256",
        authenticator_data(
            RP_ID,
            FLAG_UP | FLAG_UV | 0x18,
            0,
            Some((CREDENTIAL_ID, &key)),
        ),
    );
    let mut with_ext = authenticator_data(
        RP_ID,
        FLAG_UP | FLAG_UV | 0x80,
        1,
        Some((CREDENTIAL_ID, &eddsa_cose_key())),
    );
    with_ext.extend_from_slice(&cbor(&ciborium::value::Value::Map(vec![(
        ciborium::value::Value::Text("credProtect".into()),
        ciborium::value::Value::Integer(2.into()),
    )])));
    add("authenticator_data", "attested-eddsa-ext", with_ext);

    // cose_key: length-prefixed COSE key, length-prefixed message, signature.
    let msg = b"signed-bytes".to_vec();
    let es_sig: p256::ecdsa::Signature = passkey_key().sign(&msg);
    let es_sig = es_sig.to_der().as_bytes().to_vec();
    add(
        "cose_key",
        "es256",
        prefixed(&key, &prefixed(&msg, &es_sig)),
    );
    let ed_sig = ed25519_dalek::Signer::sign(&eddsa_key(), &msg)
        .to_bytes()
        .to_vec();
    add(
        "cose_key",
        "eddsa",
        prefixed(&eddsa_cose_key(), &prefixed(&msg, &ed_sig)),
    );
    add(
        "cose_key",
        "rs256",
        prefixed(&rs256_cose_key(), &prefixed(&msg, &[0u8; 256])),
    );

    let cdj = client_data_json("webauthn.create", &CHALLENGE, ORIGIN);
    add(
        "attestation_object",
        "none",
        attestation_object(false, &cdj),
    );
    add(
        "attestation_object",
        "packed",
        attestation_object(true, &cdj),
    );

    let body = |credential: Value| {
        serde_json::to_vec(
            &json!({ "credential": credential, "next": "/authorize?x=1", "name": "Laptop" }),
        )
        .expect("JSON")
    };
    add(
        "webauthn_json",
        "register-none",
        body(registration_json(false)),
    );
    add(
        "webauthn_json",
        "register-packed",
        body(registration_json(true)),
    );
    add("webauthn_json", "assert", body(assertion_json(1)));

    add("id_token_hint", "es256", token.clone().into_bytes());
    add(
        "id_token_hint",
        "aud-list",
        id_token(&json!({"iss": ISSUER, "sub": "user-2", "aud": ["app", "other"]})).into_bytes(),
    );
    add(
        "id_token_hint",
        "none",
        format!(
            "{}.{}.",
            b64url(br#"{"alg":"none"}"#),
            b64url(br#"{"iss":"x"}"#)
        )
        .into_bytes(),
    );

    // end_session: a selector byte (the signed-in user) then the query or form.
    add(
        "end_session",
        "redirect",
        [
            &[1u8][..],
            format!(
                "id_token_hint={token}&post_logout_redirect_uri={}&state=bye&client_id=app",
                enc(POST_LOGOUT_URI)
            )
            .as_bytes(),
        ]
        .concat(),
    );
    add(
        "end_session",
        "confirm",
        [
            &[2u8][..],
            format!(
                "post_logout_redirect_uri={}",
                enc("https://app.example.com/bye?from=idp")
            )
            .as_bytes(),
        ]
        .concat(),
    );

    for (name, v) in [
        (
            "client",
            json!({"name": "Grafana", "callback_urls": ["https://g.example.com/login/generic_oauth"], "logout_callback_urls": ["https://g.example.com/"], "pkce_enabled": true, "id_token_signed_response_alg": "ES256", "launch_url": "https://g.example.com", "allowed_user_groups": ["ops"]}),
        ),
        (
            "user",
            json!({"username": "Grace", "email": "grace@example.com", "first_name": "Grace", "is_admin": true, "custom_claims": {"team": "navy"}}),
        ),
        (
            "claims-pairs",
            json!([{"key": "department", "value": "R&D"}, {"key": "level", "value": 3}]),
        ),
        (
            "profile",
            json!({"first_name": "Ada", "last_name": "Lovelace", "display_name": "Ada L.", "email": "ada@example.com"}),
        ),
        (
            "preset",
            json!({"input": "https://app.example.com", "name": "My app", "allowed_user_groups": []}),
        ),
        (
            "group",
            json!({"name": "ops", "friendly_name": "Operations", "custom_claims": {"oncall": true}}),
        ),
    ] {
        add("admin_json", name, serde_json::to_vec(&v).expect("JSON"));
    }
    add(
        "admin_json",
        "page-query",
        b"page=2&limit=50&search=ada".to_vec(),
    );
    out
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use edge_id::passkey::{parse_assertion, verify_assertion, verify_registration, StoredPasskey};

    #[test]
    fn ceremony_seeds_verify() {
        for packed in [false, true] {
            let r = verify_registration(&rp(), &CHALLENGE, &registration_json(packed)).unwrap();
            assert_eq!(r.credential_id, CREDENTIAL_ID);
        }
        let a = parse_assertion(&assertion_json(1)).unwrap();
        let key = es256_cose_key(&passkey_key());
        let stored = StoredPasskey {
            public_key_cose: &key,
            sign_count: 0,
        };
        assert_eq!(
            verify_assertion(&rp(), &CHALLENGE, &a, stored)
                .unwrap()
                .sign_count,
            1
        );
    }

    #[test]
    fn signature_seeds_verify() {
        for (target, name, bytes) in seeds() {
            if target == "cose_key" && name != "seed-rs256" {
                let (key, rest) = split_prefixed(&bytes);
                let (message, signature) = split_prefixed(rest);
                let (public, _) = edge_id::passkey::PublicKey::from_cose(key).unwrap();
                public.verify(message, signature).unwrap();
            }
        }
    }

    #[test]
    fn token_seed_verifies() {
        let hint = edge_id::oidc::hint::verify(Some(&id_token(&id_token_claims())), jwks(), ISSUER);
        assert!(
            matches!(hint, edge_id::oidc::logout::Hint::Valid { .. }),
            "{hint:?}"
        );
    }

    #[test]
    fn committed_seeds_are_current() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        for (target, name, bytes) in seeds() {
            let path = root.join(target).join(&name);
            let on_disk = std::fs::read(&path).unwrap_or_default();
            assert!(
                on_disk == bytes,
                "{} is stale: run write_seeds",
                path.display()
            );
        }
    }

    #[test]
    #[ignore = "rewrites corpus/*/seed-*"]
    fn write_seeds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        for (target, name, bytes) in seeds() {
            let dir = root.join(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

/// An `id_token_hint` judged as the use case judges it (`usecase::id_token_hint`), with the
/// pure-Rust verifier in WebCrypto's place.
pub fn judge_hint(token: Option<&str>, keys: &Jwks, issuer: &str) -> edge_id::oidc::logout::Hint {
    match edge_id::oidc::hint::read(token, keys, issuer) {
        Err(decided) => decided,
        Ok(pending) => {
            let verified = pending
                .checks
                .iter()
                .any(edge_id::crypto::signature::verify_natively);
            pending.conclude(verified)
        }
    }
}
