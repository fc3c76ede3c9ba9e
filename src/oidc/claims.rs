//! Claims about a user: what each scope releases, the id_token, userinfo, and `at_hash`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::scope::{Scope, ScopeSet};
use crate::crypto::hash::sha256;

/// Claims no custom claim may replace: the ones that make a token what it is.
const RESERVED: [&str; 16] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "at_hash",
    "c_hash",
    "azp",
    "sid",
    "acr",
    "amr",
    "scope",
];

/// Claims the provider fills from the user's profile and groups.
const STANDARD: [&str; 12] = [
    "name",
    "given_name",
    "family_name",
    "nickname",
    "preferred_username",
    "picture",
    "locale",
    "email",
    "email_verified",
    "groups",
    "updated_at",
    "zoneinfo",
];

/// Whether the provider sets this claim itself. A custom claim never replaces one of these,
/// whatever is stored: custom claims are for what the profile does not say.
pub fn is_provider_claim(name: &str) -> bool {
    RESERVED.contains(&name) || STANDARD.contains(&name)
}

/// The facts about a user that claims are built from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserClaims {
    pub sub: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub picture: Option<String>,
    pub locale: Option<String>,
    pub groups: Vec<String>,
    /// Custom claims from the user and their groups (the user's win on conflict).
    pub custom: Map<String, Value>,
}

impl UserClaims {
    pub fn name(&self) -> String {
        if let Some(d) = self.display_name.as_deref().filter(|d| !d.is_empty()) {
            return d.to_string();
        }
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            self.username.clone()
        } else {
            parts.join(" ")
        }
    }
}

/// What a tenant's settings say about the claims of all its users. Every claim builder takes
/// it, so no path can release claims without the tenant's say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TenantClaims {
    /// The tenant vouches for every user's email (the tenant setting `emails_verified`; the
    /// tenancy module turns its settings into this, so the protocol never depends on tenancy).
    pub emails_verified: bool,
}

/// Which scope releases a custom claim: the standard address and phone claims follow their
/// scopes; everything else travels with `profile`.
fn custom_claim_scope(name: &str) -> Scope {
    match name {
        "address" => Scope::Address,
        "phone_number" | "phone_number_verified" => Scope::Phone,
        _ => Scope::Profile,
    }
}

/// The claims the granted scopes release (without `sub`).
pub fn scope_claims(
    user: &UserClaims,
    scopes: &ScopeSet,
    tenant: TenantClaims,
) -> Map<String, Value> {
    let mut out = Map::new();
    if scopes.contains(Scope::Profile) {
        out.insert("name".into(), json!(user.name()));
        out.insert("preferred_username".into(), json!(user.username));
        if let Some(v) = &user.first_name {
            out.insert("given_name".into(), json!(v));
        }
        if let Some(v) = &user.last_name {
            out.insert("family_name".into(), json!(v));
        }
        if let Some(v) = &user.picture {
            out.insert("picture".into(), json!(v));
        }
        if let Some(v) = &user.locale {
            out.insert("locale".into(), json!(v));
        }
    }
    if scopes.contains(Scope::Email) {
        if let Some(email) = &user.email {
            out.insert("email".into(), json!(email));
            // Verified when the user's own address was marked so (by an admin), or when the
            // tenant vouches for every address.
            let verified = user.email_verified || tenant.emails_verified;
            out.insert("email_verified".into(), json!(verified));
        }
    }
    if scopes.contains(Scope::Groups) {
        out.insert("groups".into(), json!(user.groups));
    }
    for (name, value) in &user.custom {
        if !is_provider_claim(name) && scopes.contains(custom_claim_scope(name)) {
            out.insert(name.clone(), value.clone());
        }
    }
    out
}

/// The userinfo response (OIDC Core §5.3.2).
pub fn userinfo(user: &UserClaims, scopes: &ScopeSet, tenant: TenantClaims) -> Value {
    let mut claims = scope_claims(user, scopes, tenant);
    claims.insert("sub".into(), json!(user.sub));
    Value::Object(claims)
}

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the SHA-256 of the access token. Both
/// algorithms we sign with (RS256, ES256) use SHA-256.
pub fn at_hash(access_token: &str) -> String {
    let digest = sha256(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// What goes into an id_token besides the user.
#[derive(Debug, Clone)]
pub struct IdTokenContext<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub scopes: &'a ScopeSet,
    pub auth_time: i64,
    pub nonce: Option<&'a str>,
    pub access_token: &'a str,
    pub now: i64,
    pub lifetime_secs: i64,
    /// Put the scope claims in the id_token (clients that never call userinfo).
    pub include_scope_claims: bool,
    pub tenant: TenantClaims,
    /// This token's unique id.
    pub jti: &'a str,
    /// The session it was issued in (`amr::sid`), when known.
    pub sid: Option<String>,
    /// How the person signed in (RFC 8176), when recorded.
    pub amr: Option<Vec<String>>,
}

pub fn id_token(user: &UserClaims, ctx: &IdTokenContext<'_>) -> Value {
    let mut claims = if ctx.include_scope_claims {
        scope_claims(user, ctx.scopes, ctx.tenant)
    } else {
        Map::new()
    };
    claims.insert("iss".into(), json!(ctx.issuer));
    claims.insert("sub".into(), json!(user.sub));
    claims.insert("aud".into(), json!(ctx.client_id));
    claims.insert("exp".into(), json!(ctx.now + ctx.lifetime_secs));
    claims.insert("iat".into(), json!(ctx.now));
    claims.insert("auth_time".into(), json!(ctx.auth_time));
    claims.insert("at_hash".into(), json!(at_hash(ctx.access_token)));
    claims.insert("jti".into(), json!(ctx.jti));
    if let Some(nonce) = ctx.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(sid) = &ctx.sid {
        claims.insert("sid".into(), json!(sid));
    }
    if let Some(amr) = &ctx.amr {
        claims.insert("amr".into(), json!(amr));
    }
    Value::Object(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada() -> UserClaims {
        let mut custom = Map::new();
        custom.insert("department".into(), json!("engines"));
        custom.insert("sub".into(), json!("spoofed"));
        custom.insert("phone_number".into(), json!("+44 1"));
        UserClaims {
            sub: "u1".into(),
            username: "ada".into(),
            email: Some("ada@example.com".into()),
            email_verified: true,
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            groups: vec!["admins".into()],
            custom,
            ..Default::default()
        }
    }

    #[test]
    fn scopes_release_their_claims_only() {
        let u = ada();
        let c = userinfo(
            &u,
            &ScopeSet::parse_lenient("openid email"),
            TenantClaims::default(),
        );
        assert_eq!(c["sub"], "u1");
        assert_eq!(c["email"], "ada@example.com");
        assert!(c.get("name").is_none() && c.get("groups").is_none());
        let c = userinfo(
            &u,
            &ScopeSet::parse_lenient("openid profile groups phone"),
            TenantClaims::default(),
        );
        assert_eq!(c["name"], "Ada Lovelace");
        assert_eq!(c["given_name"], "Ada");
        assert_eq!(c["preferred_username"], "ada");
        assert_eq!(c["groups"], json!(["admins"]));
        assert_eq!(c["department"], "engines");
        assert_eq!(c["phone_number"], "+44 1");
        assert_eq!(c["sub"], "u1", "custom claims cannot replace sub");
    }

    #[test]
    fn at_hash_matches_the_spec_example() {
        // OIDC Core Appendix A.3 (RS256): access token and its at_hash.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn id_token_core_claims_and_optional_scope_claims() {
        let u = ada();
        let scopes = ScopeSet::parse_lenient("openid email profile");
        let mut ctx = IdTokenContext {
            issuer: "https://acme",
            client_id: "app",
            scopes: &scopes,
            auth_time: 90,
            nonce: Some("n-0S6_WzA2Mj"),
            access_token: "tok",
            now: 100,
            lifetime_secs: 3600,
            include_scope_claims: false,
            tenant: TenantClaims::default(),
            jti: "j1",
            sid: Some("s1".into()),
            amr: Some(vec!["hwk".into(), "mfa".into()]),
        };
        let t = id_token(&u, &ctx);
        assert_eq!(t["iss"], "https://acme");
        assert_eq!(t["jti"], "j1");
        assert_eq!(t["sid"], "s1");
        assert_eq!(t["amr"], json!(["hwk", "mfa"]));
        assert_eq!(t["aud"], "app");
        assert_eq!(t["exp"], 3700);
        assert_eq!(t["nonce"], "n-0S6_WzA2Mj");
        assert!(t.get("email").is_none());
        ctx.include_scope_claims = true;
        ctx.nonce = None;
        let t = id_token(&u, &ctx);
        assert_eq!(t["email"], "ada@example.com");
        assert_eq!(t["name"], "Ada Lovelace");
        assert!(t.get("nonce").is_none());
        assert_eq!(t["sub"], "u1");
        ctx.sid = None;
        ctx.amr = None;
        let t = id_token(&u, &ctx);
        assert!(
            t.get("sid").is_none() && t.get("amr").is_none(),
            "absent, not null"
        );
    }

    #[test]
    fn email_verified_is_the_users_flag_or_the_tenants_setting() {
        let scopes = ScopeSet::parse_lenient("openid email");
        let vouch = TenantClaims {
            emails_verified: true,
        };
        let mut u = ada();
        u.email_verified = false;
        let info = |u: &UserClaims, t| userinfo(u, &scopes, t)["email_verified"].clone();
        assert_eq!(info(&u, TenantClaims::default()), json!(false));
        assert_eq!(info(&u, vouch), json!(true), "the tenant vouches");
        u.email_verified = true;
        assert_eq!(
            info(&u, TenantClaims::default()),
            json!(true),
            "the user's own flag"
        );
        assert_eq!(info(&u, vouch), json!(true));

        // The id_token says the same when it carries the scope claims.
        u.email_verified = false;
        let ctx = |tenant| IdTokenContext {
            issuer: "https://acme",
            client_id: "app",
            scopes: &scopes,
            auth_time: 90,
            nonce: None,
            access_token: "tok",
            now: 100,
            lifetime_secs: 3600,
            include_scope_claims: true,
            tenant,
            jti: "j1",
            sid: None,
            amr: None,
        };
        assert_eq!(
            id_token(&u, &ctx(TenantClaims::default()))["email_verified"],
            false
        );
        assert_eq!(id_token(&u, &ctx(vouch))["email_verified"], true);

        // No address, no claim: the setting never invents one.
        u.email = None;
        assert!(userinfo(&u, &scopes, vouch).get("email_verified").is_none());
    }
}
