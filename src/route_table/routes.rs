//! The table itself. Order matters only for reading: no two routes can match the same request
//! (a test checks it), so the first match is the only one.

use super::Caller::{AccessToken, Admin, Anyone, Client, LinkHolder, Operator};
use super::Caller::{SameOriginBrowser, SignedInUser};
use super::ErrorStyle::{Api, OAuth, Page};
use super::{AdminRoute as A, OperatorRoute as O, RouteId as R};
use super::{ApiDoc, Caller, ErrorStyle, Limit, Method, PathPattern, Route, RouteId, Site};

const GET: &[Method] = &[Method::Get];
const POST: &[Method] = &[Method::Post];
const PUT: &[Method] = &[Method::Put];
const DELETE: &[Method] = &[Method::Delete];
const GET_POST: &[Method] = &[Method::Get, Method::Post];

const fn route(
    site: Site,
    methods: &'static [Method],
    path: &'static str,
    id: RouteId,
    caller: Caller,
    errors: ErrorStyle,
) -> Route {
    Route {
        id,
        site,
        methods,
        path: PathPattern(path),
        caller,
        errors,
        cors: false,
        limit: None,
        doc: None,
    }
}

const fn tenant(
    methods: &'static [Method],
    path: &'static str,
    id: RouteId,
    caller: Caller,
    errors: ErrorStyle,
) -> Route {
    route(Site::Tenant, methods, path, id, caller, errors)
}

const fn operator(methods: &'static [Method], path: &'static str, id: O) -> Route {
    route(
        Site::Platform,
        methods,
        path,
        RouteId::Operator(id),
        Operator,
        Api,
    )
}

/// An admin API route with its OpenAPI summary.
const fn admin(
    methods: &'static [Method],
    path: &'static str,
    id: A,
    tag: &'static str,
    summary: &'static str,
) -> Route {
    tenant(methods, path, RouteId::Admin(id), Admin, Api).documented(tag, summary)
}

impl Route {
    const fn cors(mut self) -> Self {
        self.cors = true;
        self
    }

    const fn limited(mut self, limit: Limit) -> Self {
        self.limit = Some(limit);
        self
    }

    const fn documented(mut self, tag: &'static str, summary: &'static str) -> Self {
        self.doc = Some(ApiDoc {
            tag,
            summary,
            body: None,
            query: &[],
        });
        self
    }

    /// The request body's schema (on a documented route).
    const fn body(mut self, schema: &'static str) -> Self {
        if let Some(doc) = &mut self.doc {
            doc.body = Some(schema);
        }
        self
    }

    /// Query parameters (on a documented route).
    const fn query(mut self, names: &'static [&'static str]) -> Self {
        if let Some(doc) = &mut self.doc {
            doc.query = names;
        }
        self
    }
}

const PAGED_SEARCH: &[&str] = &["search", "page", "limit"];

#[rustfmt::skip]
pub static ROUTES: &[Route] = &[
    // Every host, before the host is looked up.
    route(Site::Every, GET, "/healthz", R::HealthCheck, Anyone, Page),
    // The platform host.
    route(Site::Platform, GET, "/", R::PlatformHome, Anyone, Page),
    operator(GET, "/operator/api/tenants", O::ListTenants),
    operator(POST, "/operator/api/tenants", O::CreateTenant),
    operator(GET, "/operator/api/tenants/{slug}", O::ShowTenant),
    operator(DELETE, "/operator/api/tenants/{slug}", O::DeleteTenant),
    operator(POST, "/operator/api/tenants/{slug}/suspend", O::SuspendTenant),
    operator(POST, "/operator/api/tenants/{slug}/resume", O::ResumeTenant),
    operator(POST, "/operator/api/tenants/{slug}/setup-link", O::SetupLink),
    operator(POST, "/operator/api/tenants/{slug}/domains", O::AddDomain),
    operator(DELETE, "/operator/api/tenants/{slug}/domains/{host}", O::RemoveDomain),
    operator(POST, "/operator/api/tenants/{slug}/keys/rotate", O::RotateKeys),
    operator(POST, "/operator/api/tenants/{slug}/keys/self-test", O::KeySelfTest),
    operator(POST, "/operator/api/tenants/{slug}/clients", O::CreateClient),
    operator(POST, "/operator/api/tenants/{slug}/api-keys", O::CreateApiKey),
    // Discovery.
    tenant(GET, "/.well-known/openid-configuration", R::OpenIdConfiguration, Anyone, Api),
    tenant(GET, "/.well-known/oauth-authorization-server", R::OAuthServerMetadata, Anyone, Api),
    tenant(GET, "/.well-known/jwks.json", R::Jwks, Anyone, Api),
    tenant(GET, "/.well-known/webfinger", R::WebFinger, Anyone, Api),
    // The OpenID Provider (Pocket ID's paths).
    tenant(GET_POST, "/authorize", R::Authorize, Anyone, Page),
    tenant(GET, "/authorize/resume", R::AuthorizeResume, Anyone, Page),
    tenant(POST, "/authorize/consent", R::AuthorizeConsent, SignedInUser, Page),
    tenant(POST, "/api/oidc/token", R::Token, Client, OAuth)
        .cors()
        .limited(Limit::Token),
    // Pushed authorization requests (RFC 9126): client-authenticated like the token endpoint,
    // CORS for public clients in the browser.
    tenant(POST, "/api/oidc/par", R::PushedAuthorization, Client, OAuth)
        .cors()
        .limited(Limit::Token),
    tenant(GET_POST, "/api/oidc/userinfo", R::UserInfo, AccessToken, OAuth).cors(),
    // RP-initiated logout is a page the browser is sent to, so its errors are pages.
    tenant(GET_POST, "/api/oidc/end-session", R::EndSession, Anyone, Page),
    // Introspection is for resource servers: no CORS (a confidential client's secret has no
    // place in a browser).
    tenant(POST, "/api/oidc/introspect", R::Introspect, Client, OAuth).limited(Limit::Token),
    tenant(POST, "/api/oidc/revoke", R::Revoke, Client, OAuth)
        .cors()
        .limited(Limit::Token),
    // The device authorization grant (RFC 8628): the device's request (a client, like the
    // token endpoint), and the page where a signed-in person enters the user code. Entering
    // and deciding count against the sign-in limit (they are where user codes are guessed),
    // after the router checked the origin; the handlers then require the session and its
    // CSRF token.
    tenant(POST, "/api/oidc/device/authorize", R::DeviceAuthorize, Client, OAuth)
        .cors()
        .limited(Limit::Token),
    tenant(GET, "/device", R::DevicePage, SignedInUser, Page),
    tenant(POST, "/device", R::DeviceCode, SameOriginBrowser, Page).limited(Limit::SignIn),
    tenant(POST, "/device/decision", R::DeviceDecision, SameOriginBrowser, Page)
        .limited(Limit::SignIn),
    // People's pages and their APIs.
    tenant(GET, "/", R::Home, Anyone, Page),
    tenant(GET, "/login", R::LoginPage, Anyone, Page),
    tenant(GET, "/signup", R::SignupPage, Anyone, Page),
    tenant(POST, "/login/code", R::OneTimeLogin, SameOriginBrowser, Page).limited(Limit::SignIn),
    tenant(GET, "/login/code/{token}", R::OneTimeLoginPage, LinkHolder, Page),
    // "Can't use your passkey?": the ways back in this tenant allows, and recovery codes.
    tenant(GET, "/login/help", R::LoginHelp, Anyone, Page),
    tenant(GET, "/login/recovery", R::RecoveryCodePage, Anyone, Page),
    tenant(POST, "/login/recovery", R::RecoveryCodeSignIn, SameOriginBrowser, Page)
        .limited(Limit::SignIn),
    // Sign in with another device: the waiting browser's page and poll, and the approval on
    // the signed-in device (a typed or scanned code counts against the sign-in limit).
    tenant(GET, "/login/other-device", R::OtherDevicePage, Anyone, Page),
    tenant(POST, "/api/login/other-device/poll", R::OtherDevicePoll, SameOriginBrowser, Api),
    tenant(GET, "/login/approve", R::OtherDeviceApprovePage, SignedInUser, Page),
    tenant(POST, "/login/approve", R::OtherDeviceDecision, SameOriginBrowser, Page)
        .limited(Limit::SignIn),
    // Email sign-in codes (tenant opt-in): asking for a code and trying one count against the
    // sign-in limit, after the router checked the origin.
    tenant(GET, "/login/email", R::EmailLoginPage, Anyone, Page),
    tenant(POST, "/login/email", R::EmailCodeRequest, SameOriginBrowser, Page).limited(Limit::SignIn),
    tenant(POST, "/login/email/code", R::EmailCodeSignIn, SameOriginBrowser, Page).limited(Limit::SignIn),
    // Verifying one's email address: asking for the link (it sends mail, so it counts against
    // the sign-in limit), the link's page with a button (scanners' GETs spend nothing), and
    // the button's POST.
    tenant(POST, "/account/verify-email", R::EmailVerificationRequest, SameOriginBrowser, Page)
        .limited(Limit::SignIn),
    tenant(GET, "/verify-email/{token}", R::EmailVerificationPage, LinkHolder, Page),
    tenant(POST, "/verify-email", R::EmailVerify, SameOriginBrowser, Page),
    // Turning sign-in notices on or off (the account page's form, with the session's CSRF).
    tenant(POST, "/account/sign-in-notices", R::SignInNotices, SameOriginBrowser, Page),
    tenant(GET, "/setup/{token}", R::SetupPage, LinkHolder, Page),
    tenant(GET, "/account", R::AccountPage, SignedInUser, Page),
    tenant(PUT, "/api/account/profile", R::UpdateProfile, SignedInUser, Api),
    tenant(POST, "/api/account/passkeys/{id}/rename", R::RenamePasskey, SignedInUser, Api),
    tenant(DELETE, "/api/account/passkeys/{id}", R::DeletePasskey, SignedInUser, Api),
    tenant(POST, "/api/account/recovery-codes", R::CreateRecoveryCodes, SignedInUser, Api),
    tenant(DELETE, "/api/account/apps/{id}", R::RevokeOwnApp, SignedInUser, Api),
    tenant(POST, "/logout", R::Logout, SameOriginBrowser, Page),
    // The console page is for admins; it sends anyone else to sign in or explains, so it
    // checks the session itself (the admin API behind it is `Admin`).
    tenant(GET, "/admin", R::AdminConsole, SignedInUser, Page),
    tenant(GET, "/theme.css", R::Theme, Anyone, Page),
    // Passkey ceremonies. Registration serves sign-up, setup links and adding a passkey while
    // signed in: the handler tells which from the ceremony.
    tenant(POST, "/api/webauthn/login/start", R::PasskeyLoginStart, SameOriginBrowser, Api)
        .limited(Limit::SignIn),
    tenant(POST, "/api/webauthn/login/finish", R::PasskeyLoginFinish, SameOriginBrowser, Api),
    tenant(POST, "/api/webauthn/register/start", R::PasskeyRegisterStart, SameOriginBrowser, Api)
        .limited(Limit::SignIn),
    tenant(POST, "/api/webauthn/register/finish", R::PasskeyRegisterFinish, SameOriginBrowser, Api),
    // The admin API.
    admin(GET, "/api/users", A::ListUsers, "Users", "List users (search, paged)").query(PAGED_SEARCH),
    admin(POST, "/api/users", A::CreateUser, "Users", "Create a user (without a passkey: send a one-time login link)").body("UserInput"),
    admin(GET, "/api/users/{id}", A::GetUser, "Users", "A user with groups and passkeys"),
    admin(PUT, "/api/users/{id}", A::UpdateUser, "Users", "Edit, disable, make admin, set custom claims (left-out fields stay)").body("UserInput"),
    admin(DELETE, "/api/users/{id}", A::DeleteUser, "Users", "Delete a user with passkeys, sessions, memberships and tokens"),
    admin(PUT, "/api/users/{id}/user-groups", A::SetUserGroups, "Users", "Set the user's groups").body("GroupIds"),
    admin(GET, "/api/users/{id}/sessions", A::UserSessions, "Users", "The user's live browser sessions (IP, browser, times)"),
    admin(DELETE, "/api/users/{id}/sessions", A::SignOutEverywhere, "Users", "Sign the user out everywhere and revoke their tokens"),
    admin(DELETE, "/api/users/{id}/passkeys/{credential_id}", A::DeleteUserPasskey, "Users", "Remove a passkey"),
    admin(POST, "/api/users/{id}/one-time-access-token", A::OneTimeAccessToken, "Users", "A one-time login link (recovery, first sign-in)").body("LinkInput"),
    admin(GET, "/api/signup-tokens", A::ListSignupTokens, "Users", "Invitations with their uses and status (never the links)"),
    admin(POST, "/api/signup-tokens", A::SignupToken, "Users", "An invitation link: up to max_uses accounts (1-100), an email to prefill, groups to join").body("InvitationInput"),
    admin(DELETE, "/api/signup-tokens/{id}", A::RevokeSignupToken, "Users", "Revoke an invitation (its link stops working)"),
    admin(PUT, "/api/custom-claims/user/{id}", A::SetUserClaims, "Custom claims", "Replace a user's custom claims").body("CustomClaims"),
    admin(PUT, "/api/custom-claims/user-group/{id}", A::SetGroupClaims, "Custom claims", "Replace a group's custom claims").body("CustomClaims"),
    admin(GET, "/api/user-groups", A::ListGroups, "Groups", "List groups (search; all of them unless a page is asked for)").query(PAGED_SEARCH),
    admin(POST, "/api/user-groups", A::CreateGroup, "Groups", "Create a group").body("GroupInput"),
    admin(GET, "/api/user-groups/{id}", A::GetGroup, "Groups", "A group with members and the clients restricted to it"),
    admin(PUT, "/api/user-groups/{id}", A::UpdateGroup, "Groups", "Rename a group or set its custom claims").body("GroupInput"),
    admin(DELETE, "/api/user-groups/{id}", A::DeleteGroup, "Groups", "Delete a group (refused while a client is restricted to it alone)"),
    admin(PUT, "/api/user-groups/{id}/users", A::SetGroupMembers, "Groups", "Set the members").body("UserIds"),
    admin(GET, "/api/oidc/clients", A::ListClients, "OIDC clients", "List clients"),
    admin(POST, "/api/oidc/clients", A::CreateClient, "OIDC clients", "Create a client (the secret is in the response, once)").body("ClientInput"),
    admin(GET, "/api/oidc/clients/{id}", A::GetClient, "OIDC clients", "A client, with its preset's setup values"),
    admin(PUT, "/api/oidc/clients/{id}", A::UpdateClient, "OIDC clients", "Replace a client's settings").body("ClientInput"),
    admin(DELETE, "/api/oidc/clients/{id}", A::DeleteClient, "OIDC clients", "Delete a client and revoke its tokens"),
    admin(POST, "/api/oidc/clients/{id}/secret", A::RegenerateClientSecret, "OIDC clients", "Rotate the secret: a new one (shown once); the others stop working after grace_period seconds (default 0: at once)").query(&["grace_period"]),
    admin(GET, "/api/oidc/clients/{id}/secrets", A::ListClientSecrets, "OIDC clients", "The client's secrets (id, created_at, expires_at; never the secret)"),
    admin(POST, "/api/oidc/clients/{id}/secrets", A::AddClientSecret, "OIDC clients", "Add a secret (shown once), optionally expiring; the others keep working").body("SecretInput"),
    admin(DELETE, "/api/oidc/clients/{id}/secrets/{secret_id}", A::DeleteClientSecret, "OIDC clients", "Delete a secret (it stops working at once; the last one is kept)"),
    admin(GET, "/api/oidc/client-presets", A::ListClientPresets, "OIDC clients", "Presets for common apps and this tenant's endpoint URLs"),
    admin(POST, "/api/oidc/client-presets/{preset}", A::CreateClientFromPreset, "OIDC clients", "Create a client from a preset; returns what to paste into the app").body("PresetInput"),
    admin(GET, "/api/oidc/clients/{id}/api-permissions", A::ClientApiPermissions, "OIDC clients", "The APIs the client may get tokens for, with its permissions there"),
    admin(PUT, "/api/oidc/clients/{id}/api-permissions", A::SetClientApiPermissions, "OIDC clients", "Replace the client's API permissions (APIs left out are no longer granted)").body("ClientApiGrants"),
    admin(GET, "/api/apis", A::ListApis, "APIs", "List the APIs (resource servers) JWT access tokens are issued for"),
    admin(POST, "/api/apis", A::CreateApi, "APIs", "Register an API: identifier (the audience), name and permissions").body("ApiInput"),
    admin(GET, "/api/apis/{id}", A::GetApi, "APIs", "An API with its permissions"),
    admin(PUT, "/api/apis/{id}", A::UpdateApi, "APIs", "Rename an API or replace its permissions (the identifier is fixed)").body("ApiInput"),
    admin(DELETE, "/api/apis/{id}", A::DeleteApi, "APIs", "Delete an API and every client's permissions at it"),
    admin(GET, "/api/audit-logs", A::AuditLog, "Audit log", "Audit entries, newest first (filter, paged)").query(&["event", "user_id", "client_id", "page", "limit"]),
    admin(GET, "/api/api-keys", A::ListApiKeys, "API keys", "List API keys (never their values)"),
    admin(POST, "/api/api-keys", A::CreateApiKey, "API keys", "Create an API key (the value is in the response, once)").body("ApiKeyInput"),
    admin(DELETE, "/api/api-keys/{id}", A::DeleteApiKey, "API keys", "Delete an API key"),
    admin(GET, "/api/application-configuration", A::GetSettings, "Settings", "Branding and account settings"),
    admin(PUT, "/api/application-configuration", A::UpdateSettings, "Settings", "Change branding and account settings").body("SettingsInput"),
    admin(POST, "/api/application-configuration/test-email", A::SendTestEmail, "Settings", "Send a test email through the tenant's SMTP server and report the server's verdict").body("TestEmailInput"),
    // The document itself is public: it describes the API, it opens nothing.
    tenant(GET, "/api/openapi.json", R::OpenApiDocument, Anyone, Api).documented("Settings", "This document"),
];
