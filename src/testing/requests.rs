//! Fixtures for native tests of use cases: a tenant's snapshot and the context a request to it
//! would give (on a production-style host, so a software authenticator accepts its origin).

use crate::storage::audit::Origin;
use crate::storage::db::Db;
use crate::tenancy::{Tenant, TenantSnapshot};
use crate::usecase::Ctx;

/// The tenant as a request sees it (no signing keys: no use case under test signs).
pub fn snapshot(tenant: &Tenant) -> TenantSnapshot {
    TenantSnapshot {
        tenant: tenant.clone(),
        keys: vec![],
    }
}

/// `https://<slug>.id.example.com`: the issuer, WebAuthn origin and (its host) RP ID.
pub fn issuer(tenant: &Tenant) -> String {
    format!("https://{}.id.example.com", tenant.slug)
}

/// A request to the tenant at `now` on [`issuer`], from a browser with a known address and
/// user agent. (The issuer string is leaked: a few bytes per test.)
pub fn ctx<'a>(db: &'a Db, snapshot: &'a TenantSnapshot, now: i64) -> Ctx<'a> {
    Ctx {
        db,
        tenant: snapshot,
        issuer: Box::leak(issuer(&snapshot.tenant).into_boxed_str()),
        now,
        verifier: &crate::testing::NativeVerifier,
        jwks: &crate::testing::ServedJwks,
        origin: Origin {
            ip: Some("192.0.2.7".into()),
            user_agent: Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Test".into()),
            ..Origin::default()
        },
        sealer: crate::testing::sealer(),
    }
}

/// A person's authenticator in software (1Password's passkey-rs: passkey-client over
/// passkey-authenticator), answering the options our use cases issue the way a browser would
/// post the result. It holds one discoverable credential.
pub struct SoftAuthenticator {
    client: SoftClient,
}

type SoftClient = passkey_client::Client<
    Option<passkey_types::Passkey>,
    AlwaysVerified,
    passkey_crypto::AvailableBackend,
    public_suffix::PublicSuffixList,
    (),
>;

/// A user who is always present and verified (a fingerprint check that succeeds).
pub struct AlwaysVerified;

#[async_trait::async_trait]
impl passkey_authenticator::UserValidationMethod for AlwaysVerified {
    type PasskeyItem = passkey_types::Passkey;

    async fn check_user<'a>(
        &self,
        _hint: passkey_authenticator::UiHint<'a, passkey_types::Passkey>,
        presence: bool,
        verification: bool,
    ) -> Result<passkey_authenticator::UserCheck, passkey_types::ctap2::Ctap2Error> {
        Ok(passkey_authenticator::UserCheck {
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

/// passkey-types serializes binary fields as arrays of numbers; browsers' `toJSON()` emits
/// base64url strings. Converts to what a browser would POST.
fn browser_json(mut value: serde_json::Value) -> serde_json::Value {
    fn b64(v: &mut serde_json::Value) {
        if let serde_json::Value::Array(items) = v {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|i| i.as_u64().map(|n| n as u8))
                .collect();
            *v = serde_json::Value::String(crate::usecase::ceremony::b64(&bytes));
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

impl Default for SoftAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftAuthenticator {
    pub fn new() -> Self {
        let authenticator = passkey_authenticator::Authenticator::new(
            passkey_types::ctap2::Aaguid::new_empty(),
            None,
            AlwaysVerified,
            passkey_crypto::AvailableBackend,
        );
        Self {
            client: passkey_client::Client::new(authenticator),
        }
    }

    /// `navigator.credentials.create()` on the page at `origin`.
    pub async fn register(
        &mut self,
        origin: &str,
        options: serde_json::Value,
    ) -> serde_json::Value {
        let public_key = serde_json::from_value(options).expect("creation options parse");
        let created = self
            .client
            .register(
                &url::Url::parse(origin).unwrap(),
                passkey_types::webauthn::CredentialCreationOptions { public_key },
                passkey_client::DefaultClientData,
            )
            .await
            .expect("the authenticator registers");
        browser_json(serde_json::to_value(created).unwrap())
    }

    /// `navigator.credentials.get()` on the page at `origin`.
    pub async fn sign_in(&mut self, origin: &str, options: serde_json::Value) -> serde_json::Value {
        let public_key = serde_json::from_value(options).expect("request options parse");
        let asserted = self
            .client
            .authenticate(
                &url::Url::parse(origin).unwrap(),
                passkey_types::webauthn::CredentialRequestOptions { public_key },
                passkey_client::DefaultClientData,
            )
            .await
            .expect("the authenticator signs");
        browser_json(serde_json::to_value(asserted).unwrap())
    }
}

/// A one-time link of the tenant (an invitation, a first-admin link or a login link for
/// `user_id`), valid for an hour from `testing::NOW`; returns its token.
pub async fn link(
    db: &Db,
    tenant_id: &str,
    purpose: crate::storage::ceremonies::LinkPurpose,
    user_id: Option<&str>,
) -> String {
    use crate::testing::NOW;
    let entry = crate::storage::audit::insert_statement(
        db,
        tenant_id,
        "link_created",
        user_id,
        None,
        &Origin::default(),
        &serde_json::json!({}),
        NOW,
    )
    .unwrap();
    crate::storage::ceremonies::create_link(
        db,
        tenant_id,
        &crate::storage::ceremonies::NewLink {
            purpose,
            user_id,
            created_by: "an-admin",
            expires_at: NOW + 3600,
        },
        NOW,
        entry,
    )
    .await
    .expect("link created")
}

/// A profile as the sign-up form sends it.
pub fn profile(username: &str) -> crate::account::ProfileInput {
    crate::account::ProfileInput {
        username: Some(username.into()),
        email: Some(format!("{username}@example.com")),
        first_name: Some(username.into()),
        ..Default::default()
    }
}
