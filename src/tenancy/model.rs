//! What a tenant is, and the snapshot of it that the hot path serves from cache.

use serde::{Deserialize, Serialize};

use crate::crypto::jwk::{Jwks, PublicJwk, SigningAlg};
use crate::oidc::claims::TenantClaims;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(TenantStatus::Active),
            "suspended" => Some(TenantStatus::Suspended),
            _ => None,
        }
    }
}

/// Who may create an account on a tenant without an invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupMode {
    /// Only the first-admin setup link and admin invites create accounts (the default).
    #[default]
    InviteOnly,
    /// Anyone reaching the login page may register a passkey and an account.
    Open,
}

/// Per-tenant settings an admin can change; stored as JSON, typed here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantSettings {
    /// Accent colour for the UI, `#rrggbb`.
    pub accent_color: String,
    /// Absolute https URL (or data: URL) of the tenant's logo; none shows the initials.
    pub logo_url: Option<String>,
    /// How long a browser session lasts before the user signs in again.
    pub session_lifetime_secs: u64,
    pub signup_mode: SignupMode,
    /// Profile fields users may change themselves on the account page.
    pub user_editable_fields: Vec<String>,
    /// Days audit entries are kept before the scheduled cleanup removes them.
    pub audit_retention_days: u32,
    /// Seconds a rotated refresh token still works (yielding the same successor) before a
    /// repeat counts as reuse and revokes the family; 0 = strict. See `oidc::refresh`.
    pub refresh_grace_secs: u32,
    /// Whether tokens say every user's email is verified (`email_verified: true`), like Pocket
    /// ID's "Emails verified" setting. Edge ID never sends a verification mail: addresses are
    /// typed by the person at sign-up or by an admin. An admin who knows them to be right (a
    /// company directory, invitation-only sign-up) turns this on for apps that refuse
    /// unverified emails (oauth2-proxy, for one). Off by default, for new tenants too: with
    /// open sign-up anyone could claim someone else's address, and an app that links accounts
    /// by verified email would hand them that person's account.
    pub emails_verified: bool,
    /// Whether read-only requests (userinfo) read D1's primary instead of a nearby replica.
    /// Off by default: a replica answers without the round trip to the primary, and a token
    /// it has not seen yet is looked up on the primary; the price is that for the replication
    /// delay (usually well under a second) a token revoked or a user disabled on the primary
    /// may still read as live there. Tenants that cannot accept that window turn this on.
    pub strict_reads: bool,
    /// Whether people may make recovery codes (`account::recovery_codes`) to sign in once
    /// without a passkey. Off by default: a code on paper is weaker than a passkey (anyone who
    /// finds it signs in), so a tenant chooses it knowingly; the alternative is an admin's
    /// one-time link.
    pub recovery_codes: bool,
    /// The tenant's own SMTP server (password sealed); none uses the operator's default.
    pub smtp: Option<crate::email::config::SmtpSettings>,
    /// Whether people may ask for a one-time sign-in code by email (`/login/email`). Off by
    /// default: it makes the mailbox a way into the account.
    pub email_sign_in_codes: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            accent_color: "#4f46e5".into(),
            logo_url: None,
            session_lifetime_secs: 7 * 24 * 3600,
            signup_mode: SignupMode::InviteOnly,
            user_editable_fields: vec![
                "first_name".into(),
                "last_name".into(),
                "display_name".into(),
            ],
            audit_retention_days: 90,
            refresh_grace_secs: crate::oidc::refresh::DEFAULT_GRACE_SECS,
            emails_verified: false,
            strict_reads: false,
            recovery_codes: false,
            smtp: None,
            email_sign_in_codes: false,
        }
    }
}

/// What the settings say about every user's claims (the protocol's view of the tenant).
impl From<&TenantSettings> for TenantClaims {
    fn from(s: &TenantSettings) -> Self {
        Self {
            emails_verified: s.emails_verified,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub display_name: String,
    pub status: TenantStatus,
    pub settings: TenantSettings,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Published in the JWKS, not signing yet: waits until every cached JWKS holds it
    /// (`tenancy::keys`).
    Next,
    /// Signs new tokens (one per algorithm).
    Current,
    /// No longer signs, still published until `expires_at` so tokens it signed keep verifying.
    Retired,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Next => "next",
            KeyStatus::Current => "current",
            KeyStatus::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "next" => Some(KeyStatus::Next),
            "current" => Some(KeyStatus::Current),
            "retired" => Some(KeyStatus::Retired),
            _ => None,
        }
    }
}

/// A tenant signing key as stored: public JWK in clear, private key sealed under the master key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub alg: SigningAlg,
    pub public_jwk: PublicJwk,
    /// PKCS#8 private key sealed with `crypto::envelope` (context = kid).
    pub sealed_private_key: String,
    pub status: KeyStatus,
    pub created_at: i64,
    /// When a retired key leaves the JWKS.
    pub expires_at: Option<i64>,
    /// For a `next` key: how long the key it replaces stays published once this one signs.
    #[serde(default)]
    pub overlap_secs: Option<i64>,
}

/// Everything the hot path needs about a tenant, cached in KV and isolate memory so discovery,
/// JWKS and token signing need no D1 query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSnapshot {
    pub tenant: Tenant,
    pub keys: Vec<SigningKeyRecord>,
}

impl TenantSnapshot {
    pub fn is_active(&self) -> bool {
        self.tenant.status == TenantStatus::Active
    }

    /// The published key set: next keys, current keys and retired keys still in their overlap
    /// window (`tenancy::keys` decides).
    pub fn jwks(&self, now: i64) -> Jwks {
        Jwks {
            keys: self
                .keys
                .iter()
                .filter(|k| super::keys::is_published(k, now))
                .map(|k| k.public_jwk.clone())
                .collect(),
        }
    }

    /// The key that signs new tokens for `alg`.
    pub fn current_key(&self, alg: SigningAlg) -> Option<&SigningKeyRecord> {
        super::keys::signing_key(&self.keys, alg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_setting_reaches_the_claims() {
        let off = TenantSettings::default();
        assert_eq!(TenantClaims::from(&off), TenantClaims::default());
        let on = TenantSettings {
            emails_verified: true,
            ..off
        };
        assert!(TenantClaims::from(&on).emails_verified);
    }

    /// A placeholder key (the key-lifecycle tests' fixture) that expires at `expires_at`.
    fn key(
        kid: &str,
        alg: SigningAlg,
        status: KeyStatus,
        expires_at: Option<i64>,
    ) -> SigningKeyRecord {
        SigningKeyRecord {
            expires_at,
            ..crate::tenancy::keys::tests::key(kid, alg, status, 0)
        }
    }

    #[test]
    fn jwks_publishes_next_keys_and_retired_keys_during_overlap_only() {
        let snap = TenantSnapshot {
            tenant: Tenant {
                id: "t".into(),
                slug: "acme".into(),
                display_name: "Acme".into(),
                status: TenantStatus::Active,
                settings: TenantSettings::default(),
                created_at: 0,
            },
            keys: vec![
                key("new", SigningAlg::RS256, KeyStatus::Current, None),
                key("old", SigningAlg::RS256, KeyStatus::Retired, Some(100)),
                key("next", SigningAlg::RS256, KeyStatus::Next, None),
            ],
        };
        let kids = |now| {
            snap.jwks(now)
                .keys
                .into_iter()
                .map(|k| k.kid)
                .collect::<Vec<_>>()
        };
        assert_eq!(kids(50), vec!["new", "old", "next"]);
        assert_eq!(kids(100), vec!["new", "next"]);
        assert_eq!(snap.current_key(SigningAlg::RS256).unwrap().kid, "new");
        assert!(snap.current_key(SigningAlg::ES256).is_none());
    }

    #[test]
    fn settings_fill_defaults_from_partial_json() {
        let s: TenantSettings = serde_json::from_str(r##"{"accent_color":"#000000"}"##).unwrap();
        assert_eq!(s.accent_color, "#000000");
        assert_eq!(s.signup_mode, SignupMode::InviteOnly);
        assert_eq!(s.session_lifetime_secs, 7 * 24 * 3600);
        assert!(
            !s.emails_verified,
            "tenants stored before the setting existed keep it off"
        );
    }
}
