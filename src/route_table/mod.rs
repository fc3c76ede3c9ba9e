//! Every endpoint of the Worker as data: one table says, for each route, which host serves it,
//! its methods and path, who may call it, how its errors are written, whether browsers of other
//! origins may call it (CORS), its rate limit and, for the admin API, its OpenAPI description.
//!
//! The router (`http::router`), the OpenAPI document (`admin::api`), CORS and rate limiting
//! all read this table, so adding an endpoint is one entry here plus one arm in the dispatch
//! `match` on [`RouteId`] (which the compiler keeps exhaustive). Pure data and a pure matcher:
//! no Workers types, so the table's rules are unit-tested natively (see `tests.rs`).

mod areas;
mod matching;
mod routes;
#[cfg(test)]
mod tests;

pub use areas::{fallback, Fallback};
pub use matching::{match_route, path_facts, Lookup, Match, Params, PathFacts};
pub use routes::ROUTES;

/// Which hosts serve a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The platform host (the bare base domain): the operator API.
    Platform,
    /// A tenant's host (subdomain or custom domain): the OpenID Provider, pages, admin API.
    Tenant,
    /// Every host, answered before the host is even looked up (the health check).
    Every,
}

impl Site {
    /// Whether a route of this site is served on `host`.
    pub fn serves(self, host: Site) -> bool {
        self == Site::Every || self == host
    }
}

/// The HTTP methods routes use. Any other method matches no route (a 404, as always).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    /// A CORS preflight; no route declares it, the table answers it for CORS routes.
    Options,
}

impl Method {
    /// The lowercase name OpenAPI uses as the operation's key.
    pub fn openapi_name(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Delete => "delete",
            Method::Options => "options",
        }
    }
}

/// A route's path, matched segment by segment: a `{name}` segment matches any one non-empty
/// segment and is handed to the handler as the parameter `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathPattern(pub &'static str);

/// Who may call a route. The router enforces the callers it can check before the handler runs
/// (same-origin browsers, admins, the operator); the other credentials are checked by the
/// handler, which needs what they name anyway (the session's user, the client, the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone: discovery, the theme, pages, and the front-channel OIDC endpoints that relying
    /// parties send browsers to (a session is used when present, never required).
    Anyone,
    /// A script or form on the tenant's own pages: the `Origin` must be the tenant's (the CSRF
    /// guard of sign-in, sign-up and sign-out); no session is needed.
    SameOriginBrowser,
    /// A signed-in person (session cookie; changes also need the same origin and the CSRF
    /// token). Pages send a visitor without a session to sign in, APIs answer 401.
    SignedInUser,
    /// The holder of a one-time link (setup or sign-in), its token in the path.
    LinkHolder,
    /// An OAuth client authenticating with its credentials (Basic header or form).
    Client,
    /// The bearer of an access token (RFC 6750).
    AccessToken,
    /// A tenant admin: a signed-in admin (same origin and CSRF token on changes) or an API key
    /// of the tenant (`X-API-KEY`).
    Admin,
    /// The platform operator: `Authorization: Bearer <OPERATOR_SECRET>`.
    Operator,
}

/// How a route reports errors: OAuth endpoints speak RFC 6749 JSON, the REST APIs their own
/// JSON, and pages people look at get a friendly HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    OAuth,
    Api,
    Page,
}

/// The rate limit a route counts against (per tenant and client IP), checked before the
/// request's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Passkey ceremonies and one-time links: what a credential-stuffing attacker hammers.
    SignIn,
    /// The token, PAR, introspection and revocation endpoints (client secret guessing).
    Token,
}

/// The OpenAPI description of an admin API route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiDoc {
    pub tag: &'static str,
    pub summary: &'static str,
    /// The request body's schema (a key of the document's schemas), if it takes one.
    pub body: Option<&'static str>,
    /// Query parameters (`page` and `limit` for paged lists).
    pub query: &'static [&'static str],
}

/// One endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub id: RouteId,
    pub site: Site,
    pub methods: &'static [Method],
    pub path: PathPattern,
    pub caller: Caller,
    pub errors: ErrorStyle,
    /// Browser apps of any origin may call it: the endpoints single-page apps (PKCE) call
    /// directly, token, userinfo and revocation. They take no cookies (credentials are the
    /// client's or a bearer token), so a wildcard origin without
    /// `Access-Control-Allow-Credentials` is safe. Introspection stays off: it is for resource
    /// servers, and confidential clients' secrets have no place in a browser.
    pub cors: bool,
    pub limit: Option<Limit>,
    /// Listed in the admin API's OpenAPI document.
    pub doc: Option<ApiDoc>,
}

/// Names every endpoint, for the dispatch `match`: adding a route without a handler does not
/// compile. The admin and operator APIs are grouped so their dispatchers match exhaustively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    HealthCheck,
    PlatformHome,
    Operator(OperatorRoute),
    OpenIdConfiguration,
    WebFinger,
    OAuthServerMetadata,
    Jwks,
    Authorize,
    AuthorizeResume,
    AuthorizeConsent,
    Token,
    PushedAuthorization,
    UserInfo,
    EndSession,
    Introspect,
    Revoke,
    DeviceAuthorize,
    DevicePage,
    DeviceCode,
    DeviceDecision,
    Home,
    LoginPage,
    SignupPage,
    OneTimeLogin,
    OneTimeLoginPage,
    EmailVerificationRequest,
    EmailVerificationPage,
    EmailVerify,
    SignInNotices,
    LoginHelp,
    RecoveryCodePage,
    RecoveryCodeSignIn,
    CreateRecoveryCodes,
    RevokeOwnApp,
    OtherDevicePage,
    OtherDevicePoll,
    OtherDeviceApprovePage,
    OtherDeviceDecision,
    EmailLoginPage,
    EmailCodeRequest,
    EmailCodeSignIn,
    SetupPage,
    AccountPage,
    UpdateProfile,
    RenamePasskey,
    DeletePasskey,
    Logout,
    AdminConsole,
    Theme,
    PasskeyLoginStart,
    PasskeyLoginFinish,
    PasskeyRegisterStart,
    PasskeyRegisterFinish,
    OpenApiDocument,
    Admin(AdminRoute),
}

/// The tenant admin REST API (modelled on Pocket ID's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRoute {
    ListUsers,
    CreateUser,
    GetUser,
    UpdateUser,
    DeleteUser,
    SetUserGroups,
    UserSessions,
    SignOutEverywhere,
    DeleteUserPasskey,
    OneTimeAccessToken,
    SignupToken,
    ListSignupTokens,
    RevokeSignupToken,
    SetUserClaims,
    SetGroupClaims,
    ListGroups,
    CreateGroup,
    GetGroup,
    UpdateGroup,
    DeleteGroup,
    SetGroupMembers,
    ListClients,
    CreateClient,
    GetClient,
    UpdateClient,
    DeleteClient,
    RegenerateClientSecret,
    ListClientSecrets,
    AddClientSecret,
    DeleteClientSecret,
    ListClientPresets,
    CreateClientFromPreset,
    ClientApiPermissions,
    SetClientApiPermissions,
    ListApis,
    CreateApi,
    GetApi,
    UpdateApi,
    DeleteApi,
    AuditLog,
    ListApiKeys,
    CreateApiKey,
    DeleteApiKey,
    GetSettings,
    UpdateSettings,
    SendTestEmail,
}

/// The platform operator API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRoute {
    ListTenants,
    CreateTenant,
    ShowTenant,
    DeleteTenant,
    SuspendTenant,
    ResumeTenant,
    SetupLink,
    AddDomain,
    RemoveDomain,
    RotateKeys,
    KeySelfTest,
    CreateClient,
    CreateApiKey,
}

/// The routes documented in the admin API's OpenAPI document, in table order.
pub fn documented() -> impl Iterator<Item = (&'static Route, &'static ApiDoc)> {
    ROUTES
        .iter()
        .filter_map(|r| r.doc.as_ref().map(|doc| (r, doc)))
}

impl PathPattern {
    /// The pattern as written (`/api/users/{id}`).
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The names of its `{name}` segments, in order.
    pub fn param_names(self) -> impl Iterator<Item = &'static str> {
        self.as_str()
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
    }
}
