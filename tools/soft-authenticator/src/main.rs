//! A software passkey for end-to-end tests and benchmarks: 1Password's passkey-rs
//! (`passkey-client` + `passkey-authenticator`) behind a command line, so Node tests can sign in
//! to a tenant without a browser.
//!
//! ```text
//! soft-authenticator register --state FILE --origin ORIGIN  < creation-options.json
//! soft-authenticator login    --state FILE --origin ORIGIN [--user USER_HANDLE_B64URL] < request-options.json
//! soft-authenticator list     --state FILE
//! ```
//!
//! Options are the WebAuthn JSON a server sends (bare, or wrapped in `options` / `publicKey`);
//! the output is what a browser's `credential.toJSON()` posts back. Credentials and their
//! signature counters persist in the state file between runs.
//!
//! Why a custom client data hash: passkey-client, like a browser, refuses plain-http origins
//! unless the RP ID is exactly `localhost`, but local tenants live at `http://<slug>.localhost`
//! (which browsers treat as a secure context). So the tool writes clientDataJSON with the real
//! origin itself, has the authenticator sign ITS hash (passkey-client's custom-hash mode, meant
//! for apps that embed a browser), and runs passkey-client's own checks on the https form of the
//! same host.
//!
//! Exit codes: 0 success, 1 usage or input error, 2 no credential for the RP, 3 an
//! excludeCredentials entry is already registered here.

mod state;

use std::process::ExitCode;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use passkey_authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey_client::{Client, DefaultClientDataWithCustomHash};
use passkey_types::ctap2::{Aaguid, Ctap2Error};
use passkey_types::webauthn::{
    CredentialCreationOptions, CredentialRequestOptions, PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
};
use passkey_types::Passkey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use state::{State, StoredCredential};

/// A user who is present and verified (a platform authenticator after a fingerprint check).
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

/// The public suffix list, plus `localhost` as a top-level domain so `<slug>.localhost` is a
/// registrable RP ID (as it is for browsers).
struct LocalhostAwareSuffixes;

impl public_suffix::EffectiveTLDProvider for LocalhostAwareSuffixes {
    fn effective_tld_plus_one<'a>(&self, domain: &'a str) -> Result<&'a str, public_suffix::Error> {
        if let Some(rest) = domain.strip_suffix(".localhost") {
            let start = rest.rfind('.').map_or(0, |i| i + 1);
            return Ok(&domain[start..]);
        }
        public_suffix::DEFAULT_PROVIDER.effective_tld_plus_one(domain)
    }
}

type SoftClient = Client<
    Option<Passkey>,
    AlwaysVerified,
    passkey_crypto::AvailableBackend,
    LocalhostAwareSuffixes,
    (),
>;

fn client(existing: Option<Passkey>) -> SoftClient {
    let mut authenticator = Authenticator::new(
        Aaguid::new_empty(),
        existing,
        AlwaysVerified,
        passkey_crypto::AvailableBackend,
    );
    // Counters let the relying party detect cloned credentials; exercise that path.
    authenticator.set_make_credentials_with_signature_counter(true);
    Client::new_with_custom_tld_provider(authenticator, LocalhostAwareSuffixes, None)
}

#[derive(Debug)]
enum Failure {
    Usage(String),
    NoCredential,
    Excluded,
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 1,
            Failure::NoCredential => 2,
            Failure::Excluded => 3,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(m) => f.write_str(m),
            Failure::NoCredential => f.write_str("no credential"),
            Failure::Excluded => f.write_str("excluded"),
        }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

struct Args {
    command: String,
    state: std::path::PathBuf,
    origin: Option<Url>,
    user: Option<String>,
}

fn parse_args() -> Result<Args, Failure> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or_else(|| usage("usage: soft-authenticator register|login|list --state FILE [--origin ORIGIN] [--user B64URL]"))?;
    let (mut state, mut origin, mut user) = (None, None, None);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| usage(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--state" => state = Some(value.into()),
            "--origin" => {
                origin =
                    Some(Url::parse(&value).map_err(|e| usage(format!("--origin {value}: {e}")))?)
            }
            "--user" => user = Some(value),
            other => return Err(usage(format!("unknown option {other}"))),
        }
    }
    Ok(Args {
        command,
        state: state.ok_or_else(|| usage("--state is required"))?,
        origin,
        user,
    })
}

/// Reads the options from stdin, unwrapping `{ "options": ... }` / `{ "publicKey": ... }`.
fn read_options() -> Result<Value, Failure> {
    let mut value: Value = serde_json::from_reader(std::io::stdin())
        .map_err(|e| usage(format!("options on stdin are not JSON: {e}")))?;
    for wrapper in ["options", "publicKey"] {
        if let Some(inner) = value.get(wrapper).cloned() {
            value = inner;
        }
    }
    Ok(value)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The clientDataJSON a browser at `origin` would produce, and its SHA-256.
fn client_data(kind: &str, challenge: &str, origin: &Url) -> (String, Vec<u8>) {
    let json = json!({
        "type": kind,
        "challenge": challenge,
        "origin": origin.origin().ascii_serialization(),
        "crossOrigin": false,
    })
    .to_string();
    let hash = Sha256::digest(json.as_bytes()).to_vec();
    (json, hash)
}

/// passkey-client's checks run on the https form of the same host (see the module docs).
fn checked_origin(origin: &Url) -> Result<Url, Failure> {
    let mut https = origin.clone();
    https
        .set_scheme("https")
        .map_err(|_| usage("--origin must be an http(s) URL"))?;
    let _ = https.set_port(None);
    Ok(https)
}

/// passkey-types serialises binary fields as arrays of numbers; browsers send base64url.
fn browser_json(mut value: Value, client_data_json: &str) -> Value {
    fn encode(v: &mut Value) {
        if let Value::Array(items) = v {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|i| i.as_u64().map(|n| n as u8))
                .collect();
            *v = Value::String(b64(&bytes));
        }
    }
    encode(&mut value["rawId"]);
    for field in [
        "attestationObject",
        "authenticatorData",
        "signature",
        "userHandle",
    ] {
        if let Some(v) = value["response"].get_mut(field) {
            encode(v);
        }
    }
    value["response"]["clientDataJSON"] = Value::String(b64(client_data_json.as_bytes()));
    value
}

fn string_field<'a>(options: &'a Value, pointer: &str) -> Result<&'a str, Failure> {
    options
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| usage(format!("options lack {pointer}")))
}

async fn register(args: &Args, state: &mut State) -> Result<Value, Failure> {
    let origin = args
        .origin
        .as_ref()
        .ok_or_else(|| usage("--origin is required"))?;
    let options = read_options()?;
    let rp_id = string_field(&options, "/rp/id")?.to_string();
    let excluded = options["excludeCredentials"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if excluded.iter().any(|c| {
        c["id"]
            .as_str()
            .is_some_and(|id| state.find(&rp_id, id).is_some())
    }) {
        return Err(Failure::Excluded);
    }
    let (client_data_json, hash) = client_data(
        "webauthn.create",
        string_field(&options, "/challenge")?,
        origin,
    );
    let parsed: PublicKeyCredentialCreationOptions =
        serde_json::from_value(options).map_err(|e| usage(format!("creation options: {e}")))?;
    let mut client = client(None);
    let created = client
        .register(
            checked_origin(origin)?,
            CredentialCreationOptions { public_key: parsed },
            DefaultClientDataWithCustomHash(hash),
        )
        .await
        .map_err(|e| usage(format!("the authenticator refused to register: {e:?}")))?;
    let passkey = client
        .authenticator()
        .store()
        .clone()
        .ok_or_else(|| usage("the authenticator stored no credential"))?;
    state.add(StoredCredential::from_passkey(&passkey)?);
    let value = serde_json::to_value(created).map_err(|e| usage(e.to_string()))?;
    Ok(browser_json(value, &client_data_json))
}

async fn login(args: &Args, state: &mut State) -> Result<Value, Failure> {
    let origin = args
        .origin
        .as_ref()
        .ok_or_else(|| usage("--origin is required"))?;
    let options = read_options()?;
    let rp_id = match options["rpId"].as_str() {
        Some(id) => id.to_string(),
        None => origin.host_str().unwrap_or_default().to_string(),
    };
    let allowed: Vec<String> = options["allowCredentials"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| c["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let stored = state
        .choose(&rp_id, &allowed, args.user.as_deref())
        .ok_or(Failure::NoCredential)?;
    let credential_id = stored.credential_id.clone();
    let (client_data_json, hash) = client_data(
        "webauthn.get",
        string_field(&options, "/challenge")?,
        origin,
    );
    let parsed: PublicKeyCredentialRequestOptions =
        serde_json::from_value(options).map_err(|e| usage(format!("request options: {e}")))?;
    let mut client = client(Some(stored.to_passkey()?));
    let asserted = client
        .authenticate(
            checked_origin(origin)?,
            CredentialRequestOptions { public_key: parsed },
            DefaultClientDataWithCustomHash(hash),
        )
        .await
        .map_err(|e| usage(format!("the authenticator refused to sign: {e:?}")))?;
    // The authenticator bumped the counter in its store: persist it.
    if let Some(updated) = client.authenticator().store() {
        state.update_counter(&credential_id, updated.counter.unwrap_or(0));
    }
    let value = serde_json::to_value(asserted).map_err(|e| usage(e.to_string()))?;
    Ok(browser_json(value, &client_data_json))
}

async fn run() -> Result<(), Failure> {
    let args = parse_args()?;
    let mut state = State::load(&args.state)?;
    let output = match args.command.as_str() {
        "register" => register(&args, &mut state).await?,
        "login" => login(&args, &mut state).await?,
        "list" => state.summary(),
        other => return Err(usage(format!("unknown command {other}"))),
    };
    state.save(&args.state)?;
    println!("{output}");
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}
