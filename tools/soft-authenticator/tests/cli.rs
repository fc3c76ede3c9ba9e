//! Runs the built CLI the way the end-to-end tests do and checks its output with Edge ID's own
//! relying-party verifier, on a plain-http `*.localhost` origin like local tenants use.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use edge_id::passkey::{
    creation_options, parse_assertion, request_options, verify_assertion, verify_registration,
    RelyingParty, StoredPasskey, UserEntity,
};
use serde_json::Value;

fn run(args: &[&str], stdin: &Value) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_soft-authenticator"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.to_string().as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn rp() -> RelyingParty {
    RelyingParty {
        id: "acme.localhost".into(),
        name: "Acme".into(),
        origin: "http://acme.localhost:8799".into(),
    }
}

fn state_file(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("soft-auth-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    dir.to_string_lossy().into_owned()
}

#[test]
fn registers_and_signs_in_on_a_localhost_origin() {
    let rp = rp();
    let state = state_file("happy");
    let args = |cmd: &'static str| vec![cmd, "--state", &state, "--origin", &rp.origin];
    let user = UserEntity {
        id: b"user-7".to_vec(),
        name: "ada".into(),
        display_name: "Ada".into(),
    };
    let challenge = [3u8; 32];
    let out = run(
        &args("register"),
        &creation_options(&rp, &user, &challenge, &[], 60_000),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let passkey = verify_registration(&rp, &challenge, &created).expect("registration verifies");
    assert_eq!(passkey.algorithm, -7);

    let mut last = passkey.sign_count;
    for round in 0..2u8 {
        let challenge = [10 + round; 32];
        let wrapped =
            serde_json::json!({ "options": request_options(&rp, &challenge, &[], 60_000) });
        let out = run(&args("login"), &wrapped);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let asserted: Value = serde_json::from_slice(&out.stdout).unwrap();
        let assertion = parse_assertion(&asserted).unwrap();
        assert_eq!(assertion.credential_id, passkey.credential_id);
        assert_eq!(assertion.user_handle.as_deref(), Some(&b"user-7"[..]));
        let outcome = verify_assertion(
            &rp,
            &challenge,
            &assertion,
            StoredPasskey {
                public_key_cose: &passkey.public_key_cose,
                sign_count: last,
            },
        )
        .expect("assertion verifies");
        assert!(outcome.sign_count > last, "the counter increases");
        last = outcome.sign_count;
    }

    // Registering again on the same authenticator is refused by excludeCredentials.
    let out = run(
        &args("register"),
        &creation_options(
            &rp,
            &user,
            &challenge,
            std::slice::from_ref(&passkey.credential_id),
            60_000,
        ),
    );
    assert_eq!(out.status.code(), Some(3));
    let _ = std::fs::remove_file(&state);
}

#[test]
fn no_credential_for_the_rp_exits_2() {
    let other = RelyingParty {
        id: "beta.localhost".into(),
        name: "Beta".into(),
        origin: "http://beta.localhost:8799".into(),
    };
    let state = state_file("none");
    let out = run(
        &["login", "--state", &state, "--origin", &other.origin],
        &request_options(&other, &[1u8; 32], &[], 60_000),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "no credential");
}
