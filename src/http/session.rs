//! The browser session cookie and same-origin (CSRF) protection.
//!
//! One cookie per tenant host (no Domain attribute, so tenants never see each other's cookies):
//! HttpOnly, SameSite=Lax, Path=/, Secure except on plain-http loopback. The value is a random
//! 256-bit id; D1 stores only its hash, so a database leak does not yield live sessions.

use crate::crypto::hash::{secret_hash, secrets_equal};
use crate::error::{Error, Result};
use crate::storage::sessions::SessionWithUser;

use super::request::TenantRequest;

pub const SESSION_COOKIE: &str = "eid_session";
/// A random id of this browser (not a session): binds requests parked while the person signs in
/// to the browser that started them.
pub const BROWSER_COOKIE: &str = "eid_browser";
/// The browser id lives about a year (browsers cap cookie lifetimes at 400 days).
const BROWSER_COOKIE_MAX_AGE: i64 = 365 * 24 * 3600;

/// The value of a cookie in the request, if present.
pub fn cookie(req: &TenantRequest<'_>, name: &str) -> Option<String> {
    let header = req.incoming.header("cookie")?;
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// The signed-in user's live session, if any.
pub async fn current(req: &TenantRequest<'_>) -> Result<Option<SessionWithUser>> {
    let id = cookie(req, SESSION_COOKIE);
    crate::usecase::sessions::current(&req.ctx()?, id.as_deref()).await
}

/// The session, or 401 for APIs / a redirect to login for pages (decided by the caller).
pub async fn require(req: &TenantRequest<'_>) -> Result<SessionWithUser> {
    current(req).await?.ok_or(Error::Unauthenticated)
}

fn secure_attr(req: &TenantRequest<'_>) -> &'static str {
    if req.incoming.is_https {
        "; Secure"
    } else {
        ""
    }
}

pub fn set_cookie(req: &TenantRequest<'_>, session_id: &str, max_age: i64) -> String {
    format!(
        "{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        secure_attr(req)
    )
}

/// This browser's id as presented (a well-formed value only).
pub fn browser_id(req: &TenantRequest<'_>) -> Option<String> {
    cookie(req, BROWSER_COOKIE).filter(|c| c.len() == 43)
}

/// This browser's id, minting one (with the `Set-Cookie` value to send) when it has none.
pub fn browser_id_or_new(req: &TenantRequest<'_>) -> (String, Option<String>) {
    match browser_id(req) {
        Some(id) => (id, None),
        None => {
            let id = crate::crypto::random::token();
            let set = format!(
                "{BROWSER_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={BROWSER_COOKIE_MAX_AGE}{}",
                secure_attr(req)
            );
            (id, Some(set))
        }
    }
}

pub fn clear_cookie(req: &TenantRequest<'_>) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure_attr(req)
    )
}

/// The CSRF token for forms of this session: derived from the session, so it needs no storage
/// and is worthless once the session ends.
pub fn csrf_token(session: &SessionWithUser) -> String {
    secret_hash(&format!("csrf:{}", session.id_hash))
}

pub fn check_csrf(session: &SessionWithUser, presented: Option<&str>) -> Result<()> {
    match presented {
        Some(t) if secrets_equal(t, &csrf_token(session)) => Ok(()),
        _ => Err(Error::Forbidden(
            "this form has expired: reload the page and try again".into(),
        )),
    }
}

/// Refuses state-changing browser requests from other origins. Browsers send `Origin` on every
/// POST/PUT/DELETE (and fetch), so a missing or foreign Origin is refused; `Sec-Fetch-Site`
/// covers the rare browser that omits Origin on a same-origin navigation.
pub fn require_same_origin(req: &TenantRequest<'_>) -> Result<()> {
    match req.incoming.header("origin") {
        Some(origin) if origin == req.issuer => Ok(()),
        Some(_) => Err(Error::Forbidden(
            "cross-site requests are not allowed".into(),
        )),
        None if req.incoming.header("sec-fetch-site").as_deref() == Some("same-origin") => Ok(()),
        None => Err(Error::Forbidden(
            "cross-site requests are not allowed".into(),
        )),
    }
}
