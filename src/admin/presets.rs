//! Client presets: the apps people put behind Edge ID, each with its callback URL pattern, the
//! client settings it needs, and a configuration snippet with this tenant's real URLs filled in.
//! The console shows them; `docs/clients/` explains the same values at more length.

use serde::Serialize;

use crate::oidc::client::ClientInput;
use crate::oidc::discovery::Endpoints;
use crate::validation::{field_error, FieldError};

/// What the admin types to fill a preset in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PresetInput {
    /// The Cloudflare Zero Trust team name (`<team>.cloudflareaccess.com`).
    AccessTeam,
    /// The public URL of the app (or of the proxy in front of it).
    AppUrl {
        label: &'static str,
        example: &'static str,
    },
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Preset {
    pub id: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub input: PresetInput,
    /// The callback with `{app}` (or `{team}`) still to fill, as the console shows it.
    pub callback_pattern: &'static str,
    pub claims_in_id_token: bool,
    pub pkce_enabled: bool,
    /// Where the guide in `docs/clients/` lives.
    pub guide: &'static str,
    #[serde(skip)]
    snippet: &'static str,
}

const APP: PresetInput = PresetInput::AppUrl {
    label: "App URL",
    example: "https://app.example.com",
};

pub const PRESETS: [Preset; 10] = [
    Preset {
        id: "cloudflare-access",
        name: "Cloudflare Zero Trust Access",
        summary: "Generic OIDC login method for Access. Access never calls userinfo, so the claims go in the id_token.",
        input: PresetInput::AccessTeam,
        callback_pattern: "https://{team}.cloudflareaccess.com/cdn-cgi/access/callback",
        claims_in_id_token: true,
        pkce_enabled: true,
        guide: "docs/clients/cloudflare-access.md",
        snippet: "Zero Trust → Settings → Authentication → Login methods → Add new → OpenID Connect\n\
Name: Edge ID\n\
App ID: {client_id}\n\
Client secret: {client_secret}\n\
Auth URL: {authorize}\n\
Token URL: {token}\n\
Certificate URL: {jwks}\n\
Proof Key for Code Exchange (PKCE): on\n\
OIDC Claims: name, groups\n",
    },
    Preset {
        id: "oauth2-proxy",
        name: "oauth2-proxy",
        summary: "Reverse proxy that puts a sign-in in front of any app.",
        input: PresetInput::AppUrl {
            label: "oauth2-proxy URL",
            example: "https://app.example.com",
        },
        callback_pattern: "{app}/oauth2/callback",
        claims_in_id_token: true,
        pkce_enabled: true,
        guide: "docs/clients/oauth2-proxy.md",
        snippet: "# oauth2-proxy.cfg\n\
provider = \"oidc\"\n\
oidc_issuer_url = \"{issuer}\"\n\
client_id = \"{client_id}\"\n\
client_secret = \"{client_secret}\"\n\
redirect_url = \"{callback}\"\n\
scope = \"openid email profile groups\"\n\
email_domains = [\"*\"]\n\
code_challenge_method = \"S256\"\n\
cookie_secret = \"<openssl rand -base64 32 | head -c 32>\"\n\
# oauth2-proxy refuses emails that are not verified. Edge ID sends no verification mail:\n\
# turn on \"Treat every email address as verified\" in this tenant's admin settings\n\
# (emails_verified), or accept unverified emails here instead:\n\
# insecure_oidc_allow_unverified_email = true\n",
    },
    Preset {
        id: "caddy-security",
        name: "Caddy (caddy-security)",
        summary: "Authentication portal for Caddy; the realm is named edge-id.",
        input: PresetInput::AppUrl {
            label: "Auth portal URL",
            example: "https://auth.example.com",
        },
        callback_pattern: "{app}/oauth2/edge-id/authorization-code-callback",
        claims_in_id_token: true,
        pkce_enabled: false,
        guide: "docs/clients/caddy-security.md",
        snippet: "security {\n\
  oauth identity provider edge-id {\n\
    realm edge-id\n\
    driver generic\n\
    client_id {client_id}\n\
    client_secret {client_secret}\n\
    scopes openid email profile groups\n\
    base_auth_url {issuer}\n\
    metadata_url {discovery}\n\
  }\n\
  authentication portal myportal {\n\
    enable identity provider edge-id\n\
  }\n\
}\n",
    },
    Preset {
        id: "traefik-forward-auth",
        name: "Traefik Forward Auth",
        summary: "thomseddon/traefik-forward-auth in auth-host mode.",
        input: PresetInput::AppUrl {
            label: "Auth host URL",
            example: "https://auth.example.com",
        },
        callback_pattern: "{app}/_oauth",
        claims_in_id_token: true,
        pkce_enabled: false,
        guide: "docs/clients/traefik.md",
        snippet: "DEFAULT_PROVIDER=oidc\n\
PROVIDERS_OIDC_ISSUER_URL={issuer}\n\
PROVIDERS_OIDC_CLIENT_ID={client_id}\n\
PROVIDERS_OIDC_CLIENT_SECRET={client_secret}\n\
AUTH_HOST={app_host}\n\
SECRET=<random string>\n",
    },
    Preset {
        id: "traefik-oidc-auth",
        name: "Traefik OIDC plugin",
        summary: "sevensolutions/traefik-oidc-auth middleware.",
        input: APP,
        callback_pattern: "{app}/oidc/callback",
        claims_in_id_token: true,
        pkce_enabled: true,
        guide: "docs/clients/traefik.md",
        snippet: "http:\n\
  middlewares:\n\
    oidc-auth:\n\
      plugin:\n\
        traefik-oidc-auth:\n\
          Provider:\n\
            Url: {issuer}\n\
            ClientId: {client_id}\n\
            ClientSecret: {client_secret}\n\
            UsePkce: true\n\
          Scopes: [\"openid\", \"profile\", \"email\", \"groups\"]\n",
    },
    Preset {
        id: "tinyauth",
        name: "Tinyauth",
        summary: "Tinyauth's generic OAuth provider.",
        input: PresetInput::AppUrl {
            label: "Tinyauth URL",
            example: "https://tinyauth.example.com",
        },
        callback_pattern: "{app}/api/oauth/callback/generic",
        claims_in_id_token: true,
        pkce_enabled: false,
        guide: "docs/clients/tinyauth.md",
        snippet: "APP_URL={app}\n\
GENERIC_CLIENT_ID={client_id}\n\
GENERIC_CLIENT_SECRET={client_secret}\n\
GENERIC_AUTH_URL={authorize}\n\
GENERIC_TOKEN_URL={token}\n\
GENERIC_USER_URL={userinfo}\n\
GENERIC_SCOPES=openid email profile groups\n\
GENERIC_NAME=Edge ID\n",
    },
    Preset {
        id: "forgejo",
        name: "Forgejo",
        summary: "Authentication source named edge-id (OpenID Connect, auto discovery).",
        input: PresetInput::AppUrl {
            label: "Forgejo URL",
            example: "https://git.example.com",
        },
        callback_pattern: "{app}/user/oauth2/edge-id/callback",
        claims_in_id_token: true,
        pkce_enabled: false,
        guide: "docs/clients/forgejo.md",
        snippet: "forgejo admin auth add-oauth --name edge-id --provider openidConnect \\\n\
  --key {client_id} --secret {client_secret} \\\n\
  --auto-discover-url {discovery} \\\n\
  --scopes \"openid email profile groups\" --group-claim-name groups\n",
    },
    Preset {
        id: "opengist",
        name: "OpenGist",
        summary: "OpenGist's OpenID Connect login.",
        input: PresetInput::AppUrl {
            label: "OpenGist URL",
            example: "https://gist.example.com",
        },
        callback_pattern: "{app}/oauth/openid-connect/callback",
        claims_in_id_token: true,
        pkce_enabled: false,
        guide: "docs/clients/opengist.md",
        snippet: "OG_EXTERNAL_URL={app}\n\
OG_OIDC_PROVIDER_NAME=Edge ID\n\
OG_OIDC_CLIENT_KEY={client_id}\n\
OG_OIDC_SECRET={client_secret}\n\
OG_OIDC_DISCOVERY_URL={discovery}\n",
    },
    Preset {
        id: "linkding",
        name: "Linkding",
        summary: "Linkding's OIDC login (mozilla-django-oidc).",
        input: PresetInput::AppUrl {
            label: "Linkding URL",
            example: "https://links.example.com",
        },
        callback_pattern: "{app}/oidc/callback/",
        claims_in_id_token: true,
        pkce_enabled: true,
        guide: "docs/clients/linkding.md",
        snippet: "LD_ENABLE_OIDC=True\n\
OIDC_OP_AUTHORIZATION_ENDPOINT={authorize}\n\
OIDC_OP_TOKEN_ENDPOINT={token}\n\
OIDC_OP_USER_ENDPOINT={userinfo}\n\
OIDC_OP_JWKS_ENDPOINT={jwks}\n\
OIDC_RP_CLIENT_ID={client_id}\n\
OIDC_RP_CLIENT_SECRET={client_secret}\n\
OIDC_RP_SIGN_ALGO=RS256\n\
OIDC_USE_PKCE=True\n",
    },
    Preset {
        id: "coder",
        name: "Coder",
        summary: "Coder's OIDC sign-in with group sync.",
        input: PresetInput::AppUrl {
            label: "Coder URL",
            example: "https://coder.example.com",
        },
        callback_pattern: "{app}/api/v2/users/oidc/callback",
        claims_in_id_token: true,
        pkce_enabled: false,
        guide: "docs/clients/coder.md",
        snippet: "CODER_OIDC_ISSUER_URL={issuer}\n\
CODER_OIDC_CLIENT_ID={client_id}\n\
CODER_OIDC_CLIENT_SECRET={client_secret}\n\
CODER_OIDC_SCOPES=openid,profile,email,groups\n\
CODER_OIDC_GROUP_FIELD=groups\n\
CODER_OIDC_SIGN_IN_TEXT=\"Sign in with a passkey\"\n",
    },
];

pub fn find(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

/// One value the admin pastes into the app, with its label as the app names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasteField {
    pub label: &'static str,
    pub value: String,
}

/// A preset filled in for this tenant and the admin's input.
#[derive(Debug, Clone, Serialize)]
pub struct FilledPreset {
    pub preset: &'static str,
    pub callback_url: String,
    #[serde(skip)]
    pub client: ClientInput,
    pub paste: Vec<PasteField>,
    pub snippet: String,
}

/// The client's credentials once it exists; before, the snippet shows placeholders.
pub struct Credentials<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
}

/// The app's origin (`https://host[:port]`), from what the admin typed. The host must fit in
/// DNS (253 characters), so the callback built from it is always a valid client URL.
fn app_origin(raw: &str) -> Result<url::Url, FieldError> {
    let raw = raw.trim();
    let parsed = url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .filter(|u| u.host_str().is_some_and(|h| h.len() <= 253))
        .ok_or_else(|| field_error("input", "the app's URL, like https://app.example.com"))?;
    Ok(parsed)
}

fn team_name(raw: &str) -> Result<String, FieldError> {
    let team = raw.trim().to_ascii_lowercase();
    let team = team
        .strip_suffix(".cloudflareaccess.com")
        .unwrap_or(&team)
        .to_string();
    let ok = (1..=63).contains(&team.len())
        && team
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !team.starts_with('-')
        && !team.ends_with('-');
    if ok {
        Ok(team)
    } else {
        Err(field_error(
            "input",
            "the Zero Trust team name: the <team> in <team>.cloudflareaccess.com",
        ))
    }
}

impl Preset {
    /// The admin's input recovered from the client's callback URL, so the console can show a
    /// client's setup values again later.
    pub fn input_from_callback(&self, callback: &str) -> Option<String> {
        let url = url::Url::parse(callback).ok()?;
        match self.input {
            PresetInput::AccessTeam => url
                .host_str()?
                .strip_suffix(".cloudflareaccess.com")
                .map(str::to_string),
            PresetInput::AppUrl { .. } => Some(url.origin().ascii_serialization()),
        }
    }

    /// Fills the preset in: the client to create, the values to paste, the snippet.
    pub fn fill(
        &self,
        input: &str,
        name: Option<&str>,
        endpoints: &Endpoints,
        creds: Option<&Credentials<'_>>,
    ) -> Result<FilledPreset, FieldError> {
        let (callback, app, app_host) = match self.input {
            PresetInput::AccessTeam => {
                let team = team_name(input)?;
                (self.callback_pattern.replace("{team}", &team), None, None)
            }
            PresetInput::AppUrl { .. } => {
                let url = app_origin(input)?;
                let origin = url.origin().ascii_serialization();
                let host = url.host_str().unwrap_or_default().to_string();
                (
                    self.callback_pattern.replace("{app}", &origin),
                    Some(origin),
                    Some(host),
                )
            }
        };
        let client_id = creds.map_or("<client id>", |c| c.client_id);
        let client_secret = creds
            .and_then(|c| c.client_secret)
            .unwrap_or("<client secret>");
        let vars: [(&str, &str); 11] = [
            ("{issuer}", &endpoints.issuer),
            ("{discovery}", &endpoints.discovery),
            ("{authorize}", &endpoints.authorization),
            ("{token}", &endpoints.token),
            ("{userinfo}", &endpoints.userinfo),
            ("{jwks}", &endpoints.jwks),
            ("{callback}", &callback),
            ("{app_host}", app_host.as_deref().unwrap_or_default()),
            ("{app}", app.as_deref().unwrap_or_default()),
            ("{client_id}", client_id),
            ("{client_secret}", client_secret),
        ];
        let snippet = vars
            .iter()
            .fold(self.snippet.to_string(), |s, (k, v)| s.replace(k, v));
        let paste = match self.input {
            PresetInput::AccessTeam => vec![
                paste("App ID", client_id),
                paste("Client secret", client_secret),
                paste("Auth URL", &endpoints.authorization),
                paste("Token URL", &endpoints.token),
                paste("Certificate URL", &endpoints.jwks),
            ],
            PresetInput::AppUrl { .. } => vec![
                paste("Issuer", &endpoints.issuer),
                paste("Discovery URL", &endpoints.discovery),
                paste("Client ID", client_id),
                paste("Client secret", client_secret),
                paste("Callback URL", &callback),
            ],
        };
        let client = ClientInput {
            name: name
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .unwrap_or(self.name)
                .to_string(),
            callback_urls: vec![callback.clone()],
            claims_in_id_token: self.claims_in_id_token,
            pkce_enabled: self.pkce_enabled,
            launch_url: app.clone(),
            preset: Some(self.id.to_string()),
            ..ClientInput::default()
        };
        Ok(FilledPreset {
            preset: self.id,
            callback_url: callback,
            client,
            paste,
            snippet,
        })
    }
}

fn paste(label: &'static str, value: &str) -> PasteField {
    PasteField {
        label,
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints() -> Endpoints {
        Endpoints::for_issuer("https://acme.id.example.com")
    }

    #[test]
    fn access_preset_fills_the_team_callback_and_the_three_urls() {
        let p = find("cloudflare-access").unwrap();
        let creds = Credentials {
            client_id: "cid",
            client_secret: Some("sec"),
        };
        let f = p
            .fill(
                "MyTeam.cloudflareaccess.com",
                None,
                &endpoints(),
                Some(&creds),
            )
            .unwrap();
        assert_eq!(
            f.callback_url,
            "https://myteam.cloudflareaccess.com/cdn-cgi/access/callback"
        );
        assert!(f.client.claims_in_id_token && f.client.pkce_enabled);
        assert_eq!(f.client.validate().unwrap().as_str(), "RS256");
        let get = |l: &str| f.paste.iter().find(|p| p.label == l).unwrap().value.clone();
        assert_eq!(get("Auth URL"), "https://acme.id.example.com/authorize");
        assert_eq!(
            get("Token URL"),
            "https://acme.id.example.com/api/oidc/token"
        );
        assert_eq!(
            get("Certificate URL"),
            "https://acme.id.example.com/.well-known/jwks.json"
        );
        assert_eq!(get("App ID"), "cid");
        assert!(f.snippet.contains("Client secret: sec"));
        assert!(p.fill("bad team!", None, &endpoints(), None).is_err());
        assert!(p.fill("-x", None, &endpoints(), None).is_err());
    }

    /// Found by the `admin_json` fuzz target: an app URL with a 2,000-character host gave a
    /// callback the client validation then refused, naming a field the admin never sent.
    #[test]
    fn an_app_host_longer_than_dns_allows_is_an_input_error() {
        let p = find("forgejo").unwrap();
        let long = format!("https://{}.example.com", "a.".repeat(1000));
        assert_eq!(
            p.fill(&long, None, &endpoints(), None).unwrap_err().field,
            "input"
        );
        let longest = format!("https://{}.com", "a".repeat(249));
        let f = p.fill(&longest, None, &endpoints(), None).unwrap();
        f.client.validate().unwrap();
    }

    #[test]
    fn every_preset_yields_a_valid_client_and_no_unfilled_placeholder() {
        for p in &PRESETS {
            let input = match p.input {
                PresetInput::AccessTeam => "team",
                PresetInput::AppUrl { .. } => "https://app.example.com/some/path",
            };
            let f = p.fill(input, Some("My app"), &endpoints(), None).unwrap();
            f.client.validate().unwrap();
            assert_eq!(f.client.name, "My app");
            assert_eq!(f.client.preset.as_deref(), Some(p.id));
            for var in [
                "{issuer}",
                "{client_id}",
                "{app}",
                "{callback}",
                "{jwks}",
                "{team}",
            ] {
                assert!(!f.snippet.contains(var), "{} leaves {var}", p.id);
            }
            if p.input != PresetInput::AccessTeam {
                assert!(
                    f.callback_url.starts_with("https://app.example.com/"),
                    "{}",
                    p.id
                );
                assert!(!f.callback_url.contains("some/path"));
            }
        }
    }

    #[test]
    fn the_input_is_recovered_from_the_callback() {
        for p in &PRESETS {
            let input = match p.input {
                PresetInput::AccessTeam => "team",
                PresetInput::AppUrl { .. } => "https://app.example.com:8443",
            };
            let f = p.fill(input, None, &endpoints(), None).unwrap();
            let again = p.input_from_callback(&f.callback_url).unwrap();
            assert_eq!(again, input, "{}", p.id);
        }
    }

    #[test]
    fn app_urls_must_be_web_urls() {
        let p = find("forgejo").unwrap();
        for bad in [
            "",
            "git.example.com",
            "javascript:alert(1)",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                p.fill(bad, None, &endpoints(), None).unwrap_err().field,
                "input"
            );
        }
        let f = p
            .fill("http://10.0.0.5:3000", None, &endpoints(), None)
            .unwrap();
        assert_eq!(
            f.callback_url,
            "http://10.0.0.5:3000/user/oauth2/edge-id/callback"
        );
    }
}
