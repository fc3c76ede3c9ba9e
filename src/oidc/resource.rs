//! Resource indicators (RFC 8707) and the permissions a token for an API carries.
//!
//! One rule decides what a client gets at an API ([`permitted_scope`]); the client_credentials
//! batch (`storage::machine_tokens`) writes its audit entry under the same rule, generated
//! from the same inputs, and a test holds the two together.

use super::error::{ErrorCode, OAuthError};

/// The `resource` of a token request: at most one (this provider issues a token for one
/// audience, as RFC 8707 §2.2 lets it), an absolute URI without a fragment.
pub fn parse_resource(form: &[(String, String)]) -> Result<Option<String>, OAuthError> {
    let mut values = form
        .iter()
        .filter(|(k, v)| k == "resource" && !v.is_empty());
    let Some((_, first)) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid_target(
            "ask for one resource per token request: a token has one audience",
        ));
    }
    let absolute = url::Url::parse(first).is_ok_and(|u| u.fragment().is_none());
    if !absolute || first.contains('#') {
        return Err(invalid_target(
            "resource must be an absolute URI without a fragment",
        ));
    }
    Ok(Some(first.clone()))
}

/// One `resource` value: an absolute URI without a fragment (RFC 8707 §2).
pub fn check_resource(value: &str) -> Result<String, OAuthError> {
    let absolute = url::Url::parse(value).is_ok_and(|u| u.fragment().is_none());
    if !absolute || value.contains('#') {
        return Err(invalid_target(
            "resource must be an absolute URI without a fragment",
        ));
    }
    Ok(value.to_string())
}

/// The API permissions among an authorization request's `scope` values (those that are not
/// OpenID scopes), sorted without repeats.
pub fn api_permissions(raw: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let values: Vec<String> = requested_scope(raw)
        .unwrap_or_default()
        .into_iter()
        .filter(|v| super::scope::Scope::parse(v).is_none())
        .collect();
    if values.len() > crate::oidc::api::MAX_PERMISSIONS {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "too many scope values",
        ));
    }
    Ok(values)
}

/// The permissions of a user's token at an API (authorization code and refresh): what was
/// asked for and the client still holds there; the rest is dropped, as scopes an OpenID
/// Provider does not grant are (RFC 6749 §3.3: the response's `scope` says what was issued).
/// A client without a grant at the API cannot target it.
pub fn delegated_scope(asked: &[String], access: &ApiAccess) -> Result<Vec<String>, OAuthError> {
    if access.granted.is_none() {
        return Err(invalid_target(format!(
            "this client holds no permissions at {}",
            access.identifier
        )));
    }
    let allowed = access.allowed();
    Ok(asked
        .iter()
        .filter(|v| allowed.contains(v))
        .cloned()
        .collect())
}

pub fn invalid_target(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidTarget, description)
}

/// What storage knows of one API for one client: the permissions the API defines and, when
/// the client holds a grant there, the values it was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAccess {
    pub identifier: String,
    pub defined: Vec<String>,
    pub granted: Option<Vec<String>>,
}

impl ApiAccess {
    /// The permissions the client may ask for: granted AND still defined by the API (a
    /// permission the API dropped is no longer granted), sorted, without repeats.
    pub fn allowed(&self) -> Vec<String> {
        let mut allowed: Vec<String> = self
            .granted
            .iter()
            .flatten()
            .filter(|v| self.defined.contains(v))
            .cloned()
            .collect();
        allowed.sort();
        allowed.dedup();
        allowed
    }
}

/// The requested `scope` as a sorted list without repeats; `None` when absent or blank.
pub fn requested_scope(raw: Option<&str>) -> Option<Vec<String>> {
    let mut values: Vec<String> = raw?
        .split(' ')
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect();
    if values.is_empty() {
        return None;
    }
    values.sort();
    values.dedup();
    Some(values)
}

/// The scope of a client's own token (client_credentials) at an API: everything it holds
/// when it names no scope; exactly what it names when it holds all of it; otherwise
/// `invalid_scope` (RFC 6749 §5.2: the scope "exceeds the scope granted"). A machine client
/// gets no silently narrowed token: narrowing would surface later as 403s at the API, far
/// from the misconfiguration. A client without a grant at the API cannot target it.
pub fn permitted_scope(
    requested: Option<&[String]>,
    access: &ApiAccess,
) -> Result<Vec<String>, OAuthError> {
    if access.granted.is_none() {
        return Err(invalid_target(format!(
            "this client holds no permissions at {}",
            access.identifier
        )));
    }
    let allowed = access.allowed();
    match requested {
        None => Ok(allowed),
        Some(asked) => match asked.iter().find(|v| !allowed.contains(v)) {
            Some(missing) => Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!(
                    "{missing} is not a permission this client holds at {}",
                    access.identifier
                ),
            )),
            None => Ok(asked.to_vec()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn access(defined: &[&str], granted: Option<&[&str]>) -> ApiAccess {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ApiAccess {
            identifier: "https://api.example.com".into(),
            defined: owned(defined),
            granted: granted.map(owned),
        }
    }

    fn list(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_absolute_resource_without_fragment() {
        assert_eq!(parse_resource(&form(&[])).unwrap(), None);
        assert_eq!(parse_resource(&form(&[("resource", "")])).unwrap(), None);
        assert_eq!(
            parse_resource(&form(&[("resource", "https://api.example.com/")])).unwrap(),
            Some("https://api.example.com/".into())
        );
        for bad in [
            form(&[("resource", "api")]),
            form(&[("resource", "https://a.example/#f")]),
            form(&[
                ("resource", "https://a.example"),
                ("resource", "https://b.example"),
            ]),
        ] {
            assert_eq!(
                parse_resource(&bad).unwrap_err().code,
                ErrorCode::InvalidTarget
            );
        }
    }

    #[test]
    fn the_client_gets_what_it_holds_and_the_api_still_defines() {
        let a = access(
            &["read", "write", "admin"],
            Some(&["write", "read", "gone"]),
        );
        assert_eq!(permitted_scope(None, &a).unwrap(), list(&["read", "write"]));
        assert_eq!(
            permitted_scope(Some(&list(&["read"])), &a).unwrap(),
            list(&["read"])
        );
        for over in [&["admin"][..], &["read", "admin"], &["gone"], &["openid"]] {
            assert_eq!(
                permitted_scope(Some(&list(over)), &a).unwrap_err().code,
                ErrorCode::InvalidScope,
                "{over:?}"
            );
        }
        let none = access(&["read"], None);
        assert_eq!(
            permitted_scope(None, &none).unwrap_err().code,
            ErrorCode::InvalidTarget
        );
        let empty = access(&["read"], Some(&[]));
        assert_eq!(permitted_scope(None, &empty).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn requested_scopes_are_sorted_and_deduplicated() {
        assert_eq!(requested_scope(None), None);
        assert_eq!(requested_scope(Some("  ")), None);
        assert_eq!(
            requested_scope(Some("write read  read")),
            Some(list(&["read", "write"]))
        );
    }
}
