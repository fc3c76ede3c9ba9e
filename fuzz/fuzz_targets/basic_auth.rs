//! Client authentication at the back-channel endpoints: `Authorization: Basic` (read both
//! form-urlencoded, RFC 6749 App. B, and raw, as Cloudflare Access sends it) or the form's
//! `client_id` / `client_secret`.
//!
//! Input: three lines: the Authorization header, the form client_id, the form client_secret
//! (an empty line is an absent field). The header line is also used the other way round: its
//! text becomes an `id:secret` pair that is Basic-encoded and must read back.
#![no_main]

use edge_id::crypto::hash::secret_hash;
use edge_id::oidc::client::ClientCredentials;
use edge_id_fuzz::{basic, check_oauth_error, clients, split_line, NOW};
use libfuzzer_sys::fuzz_target;

/// Strict `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` needs two hex
/// digits; anything else is not a valid encoding (`None`).
fn reference_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fuzz_target!(|data: &[u8]| {
    let (header, rest) = split_line(data);
    let (id, secret) = split_line(rest);
    let header = String::from_utf8_lossy(header).into_owned();
    let non_empty = |b: &[u8]| (!b.is_empty()).then(|| String::from_utf8_lossy(b).into_owned());
    let (form_id, form_secret) = (non_empty(id), non_empty(secret));

    match ClientCredentials::from_request(
        (!header.is_empty()).then_some(header.as_str()),
        form_id.as_deref(),
        form_secret.as_deref(),
    ) {
        Ok(creds) => {
            let used_basic = header
                .split_once(' ')
                .is_some_and(|(s, _)| s.eq_ignore_ascii_case("basic"));
            if used_basic {
                assert!(!creds.secrets.is_empty() && creds.secrets.len() <= 2);
                assert!(form_secret.is_none());
            } else {
                assert_eq!(Some(creds.client_id.as_str()), form_id.as_deref());
                assert_eq!(
                    creds.secrets,
                    form_secret.iter().cloned().collect::<Vec<_>>()
                );
            }
            for client in clients() {
                if let Err(e) = creds.authenticate(&client, NOW) {
                    check_oauth_error(&e);
                }
            }
        }
        Err(e) => check_oauth_error(&e),
    }

    // Round trip: any `id:secret` (id without ':') Basic-encodes and reads back, the id
    // form-urldecoded when it is a valid encoding and as sent otherwise, the secret both ways.
    if let Some((id, secret)) = header.split_once(':') {
        let creds = ClientCredentials::from_request(Some(&basic(id, secret)), None, None)
            .expect("a Basic header of base64(id:secret) is well-formed");
        let expected_id = reference_decode(id).unwrap_or_else(|| id.to_string());
        assert_eq!(creds.client_id, expected_id, "id {id:?}");
        assert_eq!(creds.secrets[0], secret);
        match reference_decode(secret).filter(|d| d != secret) {
            Some(decoded) => assert_eq!(creds.secrets.get(1), Some(&decoded), "{secret:?}"),
            None => assert_eq!(creds.secrets.len(), 1, "{secret:?}: {:?}", creds.secrets),
        }
        let mut client = clients()[0].clone();
        client.secrets[0].hash = secret_hash(secret);
        creds
            .authenticate(&client, NOW)
            .expect("the raw secret authenticates");
    }
});
