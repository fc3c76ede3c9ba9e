//! Scopes: which of the requested values this provider knows, and which claims each releases.
//!
//! Unknown scope values are dropped rather than refused (OIDC Core §3.1.2.1: "Scope values used
//! that are not understood by an implementation SHOULD be ignored"), so apps that ask for
//! `offline_access` or a vendor scope still work. `openid` is required: this is an OpenID
//! Provider, and without it there is no id_token to issue.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::{ErrorCode, OAuthError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Openid,
    Profile,
    Email,
    Groups,
    Address,
    Phone,
    OfflineAccess,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::Openid,
        Scope::Profile,
        Scope::Email,
        Scope::Groups,
        Scope::Address,
        Scope::Phone,
        Scope::OfflineAccess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Openid => "openid",
            Scope::Profile => "profile",
            Scope::Email => "email",
            Scope::Groups => "groups",
            Scope::Address => "address",
            Scope::Phone => "phone",
            Scope::OfflineAccess => "offline_access",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// What the consent screen says this scope shares.
    pub fn description(self) -> &'static str {
        match self {
            Scope::Openid => "Know who you are (your account identifier)",
            Scope::Profile => "Your name, username and picture",
            Scope::Email => "Your email address",
            Scope::Groups => "The groups you belong to",
            Scope::Address => "Your postal address",
            Scope::Phone => "Your phone number",
            Scope::OfflineAccess => "Stay signed in when you are away",
        }
    }
}

/// A set of known scopes, kept sorted so it serialises canonically.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses a space-separated `scope` parameter, ignoring unknown values.
    pub fn parse_lenient(raw: &str) -> Self {
        let mut scopes: Vec<Scope> = raw.split(' ').filter_map(Scope::parse).collect();
        scopes.sort();
        scopes.dedup();
        ScopeSet(scopes)
    }

    /// Parses an authorization request's `scope`: unknown values dropped, `openid` required.
    pub fn for_authorization(raw: Option<&str>) -> Result<Self, OAuthError> {
        let set = Self::parse_lenient(raw.unwrap_or_default());
        if !set.contains(Scope::Openid) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "the openid scope is required",
            ));
        }
        Ok(set)
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.0.iter().all(|s| other.contains(*s))
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

impl From<ScopeSet> for String {
    fn from(s: ScopeSet) -> Self {
        s.to_string()
    }
}

impl From<String> for ScopeSet {
    fn from(s: String) -> Self {
        ScopeSet::parse_lenient(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_unknown_values_do_not_matter() {
        let s = ScopeSet::for_authorization(Some("email openid vendor:x email")).unwrap();
        assert_eq!(s.to_string(), "openid email");
        assert!(s.contains(Scope::Email));
        assert!(!s.contains(Scope::Profile));
    }

    #[test]
    fn openid_is_required() {
        let e = ScopeSet::for_authorization(Some("profile email")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScope);
        assert!(ScopeSet::for_authorization(None).is_err());
    }

    #[test]
    fn subsets_and_round_trip() {
        let all = ScopeSet::parse_lenient("openid profile email");
        let some = ScopeSet::parse_lenient("openid email");
        assert!(some.is_subset_of(&all));
        assert!(!all.is_subset_of(&some));
        let json = serde_json::to_string(&all).unwrap();
        assert_eq!(json, "\"openid profile email\"");
        assert_eq!(serde_json::from_str::<ScopeSet>(&json).unwrap(), all);
    }
}
