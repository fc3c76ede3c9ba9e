//! What answers a request no route serves: a 404, written in the style of the area of the URL
//! space it falls in, after the area's own caller check. An unknown admin API path asks for an
//! admin first (a stranger learns nothing about which admin paths exist), an unknown operator
//! path for the operator secret.

use super::Caller::{self, Admin, Anyone, Operator};
use super::ErrorStyle::{self, Api, Page};
use super::Site;

/// Which paths an area covers.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Exactly this path.
    Exactly(&'static str),
    /// This path and every path below it (`/api/users`, `/api/users/x/y`).
    AndBelow(&'static str),
    /// Every path starting with this text.
    StartingWith(&'static str),
}

impl Scope {
    fn covers(self, path: &str) -> bool {
        match self {
            Scope::Exactly(p) => path == p,
            Scope::AndBelow(p) => path
                .strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            Scope::StartingWith(p) => path.starts_with(p),
        }
    }
}

struct Area {
    site: Site,
    scope: Scope,
    caller: Caller,
    errors: ErrorStyle,
    /// What the 404 says was not found.
    missing: &'static str,
}

const fn admin(scope: Scope) -> Area {
    Area {
        site: Site::Tenant,
        scope,
        caller: Admin,
        errors: Api,
        missing: "This API route",
    }
}

/// Areas without a caller check, that only set the style of their 404.
const fn json_area(prefix: &'static str) -> Area {
    Area {
        site: Site::Every,
        scope: Scope::StartingWith(prefix),
        caller: Anyone,
        errors: Api,
        missing: "This page",
    }
}

/// First match wins.
static AREAS: &[Area] = &[
    admin(Scope::AndBelow("/api/oidc/clients")),
    admin(Scope::AndBelow("/api/oidc/client-presets")),
    admin(Scope::AndBelow("/api/user-groups")),
    admin(Scope::AndBelow("/api/users")),
    admin(Scope::AndBelow("/api/custom-claims")),
    admin(Scope::AndBelow("/api/api-keys")),
    admin(Scope::Exactly("/api/audit-logs")),
    admin(Scope::AndBelow("/api/signup-tokens")),
    admin(Scope::Exactly("/api/application-configuration")),
    Area {
        site: Site::Tenant,
        scope: Scope::StartingWith("/api/account/passkeys/"),
        caller: Anyone,
        errors: Api,
        missing: "This API route",
    },
    Area {
        site: Site::Platform,
        scope: Scope::StartingWith("/operator/api/"),
        caller: Operator,
        errors: Api,
        missing: "This operator API route",
    },
    json_area("/api/"),
    json_area("/operator/api/"),
    json_area("/.well-known/"),
];

/// How to refuse a request no route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback {
    /// Checked before the 404 is sent.
    pub caller: Caller,
    /// The 404's "... was not found".
    pub missing: &'static str,
}

/// The refusal of `path` on `site` when no route serves it.
pub fn fallback(site: Site, path: &str) -> Fallback {
    match AREAS
        .iter()
        .find(|a| a.site.serves(site) && a.scope.covers(path))
    {
        Some(area) => Fallback {
            caller: area.caller,
            missing: area.missing,
        },
        None => Fallback {
            caller: Anyone,
            missing: "This page",
        },
    }
}

/// The error style of a path no route serves (on any host): its area's, or a page.
pub(super) fn style_of_unserved(path: &str) -> ErrorStyle {
    AREAS
        .iter()
        .find(|a| a.scope.covers(path))
        .map_or(Page, |a| a.errors)
}
