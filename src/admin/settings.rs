//! What an admin submits to `PUT /api/application-configuration`, validated into the change
//! to store: the tenant's new display name, if any, and a JSON merge patch (RFC 7396) of only
//! the settings sent. Storage applies the patch to the row in D1 in one UPDATE, so two admins
//! changing different settings at the same moment (or from isolates holding older cached
//! copies of the tenant) never undo each other's change.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::crypto::envelope::MasterKey;
use crate::email::config::{
    default_port, has_line_break_or_control, password_context, valid_address, valid_host,
};
use crate::email::smtp::TlsMode;
use crate::tenancy::{SignupMode, TenantSettings};
use crate::validation::{field_error, plain_text, FieldError};

/// The JSON body; every field is optional and a field left out keeps its stored value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub accent_color: Option<String>,
    /// `null` (or an empty string) removes the logo; left out, it stays.
    #[serde(default, deserialize_with = "present")]
    pub logo_url: Option<Option<String>>,
    #[serde(default)]
    pub session_lifetime_secs: Option<u64>,
    #[serde(default)]
    pub signup_mode: Option<SignupMode>,
    #[serde(default)]
    pub user_editable_fields: Option<Vec<String>>,
    #[serde(default)]
    pub audit_retention_days: Option<u32>,
    #[serde(default)]
    pub emails_verified: Option<bool>,
    #[serde(default)]
    pub refresh_grace_secs: Option<u32>,
    #[serde(default)]
    pub strict_reads: Option<bool>,
    #[serde(default)]
    pub recovery_codes: Option<bool>,
    /// The tenant's own SMTP server, replaced whole; `null` removes it (the operator's default
    /// then applies). The password is kept when `password` is left out.
    #[serde(default, deserialize_with = "present")]
    pub smtp: Option<Option<SmtpInput>>,
    #[serde(default)]
    pub email_sign_in_codes: Option<bool>,
}

/// `POST /api/application-configuration/test-email`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEmailInput {
    /// The recipient; by default the signed-in admin's address.
    #[serde(default)]
    pub to: Option<String>,
}

/// The tenant's SMTP server as an admin submits it.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpInput {
    pub host: String,
    /// Left out: 587 for STARTTLS, 465 for TLS, 25 for none.
    #[serde(default)]
    pub port: Option<u16>,
    /// Left out: STARTTLS.
    #[serde(default)]
    pub tls: Option<TlsMode>,
    pub from_address: String,
    #[serde(default)]
    pub from_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    /// Left out: the stored password stays (if it was set for this host and username);
    /// `null` or empty: removed; a string: the new password (sealed before it is stored).
    #[serde(default, deserialize_with = "present")]
    pub password: Option<Option<String>>,
}

impl std::fmt::Debug for SmtpInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpInput")
            .field("host", &self.host)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A new SMTP password, waiting to be sealed for the tenant ([`SettingsChange::seal`]).
#[derive(Clone, PartialEq)]
pub struct NewPassword {
    password: String,
    host: String,
    username: Option<String>,
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// A field that is present, even as `null` (`Some(None)`); serde alone reads `null` as absent.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A validated change: `None`/absent keys keep what is stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsChange {
    pub display_name: Option<String>,
    /// A merge patch of the settings object: each key sent, with its normalised value. A
    /// `null` value removes the key, so the setting reads as its default (no logo).
    pub patch: Map<String, Value>,
    /// A new SMTP password in clear: [`SettingsChange::seal`] moves it, sealed, into the patch
    /// before anything is stored (`usecase::settings::update` refuses a change still holding
    /// one).
    pub smtp_password: Option<NewPassword>,
}

impl SettingsChange {
    /// Seals a new SMTP password with the master key for this tenant, host and username.
    pub fn seal(mut self, master: &MasterKey, tenant_id: &str) -> Self {
        if let Some(new) = self.smtp_password.take() {
            let context = password_context(tenant_id, &new.host, new.username.as_deref());
            let sealed = master.seal(&context, new.password.as_bytes());
            if let Some(Value::Object(smtp)) = self.patch.get_mut("smtp") {
                smtp.insert("password_sealed".into(), json!(sealed));
            }
        }
        self
    }
}

/// The settings as the admin API shows them: the SMTP password never, only whether one is set
/// that opens for the configured host and username (`password_set`).
pub fn view(settings: &TenantSettings, tenant_id: &str, master: &MasterKey) -> Value {
    let mut v = serde_json::to_value(settings).expect("settings serialize");
    if let (Some(smtp), Some(Value::Object(out))) = (&settings.smtp, v.get_mut("smtp")) {
        out.remove("password_sealed");
        out.insert(
            "password_set".into(),
            json!(smtp.password(tenant_id, master).is_some()),
        );
    }
    v
}

impl SmtpInput {
    /// The stored object (every field, so a field left out is removed) and a new password.
    fn validate(self) -> Result<(Value, Option<Option<NewPassword>>), FieldError> {
        let host = self.host.trim().to_ascii_lowercase();
        if !valid_host(&host) {
            return Err(field_error(
                "smtp.host",
                "a host name like smtp.example.com",
            ));
        }
        let tls = self.tls.unwrap_or_default();
        let port = self.port.unwrap_or_else(|| default_port(tls));
        if port == 0 {
            return Err(field_error("smtp.port", "1 to 65535"));
        }
        let from_address = self.from_address.trim().to_string();
        if !valid_address(&from_address) {
            return Err(field_error(
                "smtp.from_address",
                "an email address like no-reply@example.com",
            ));
        }
        let from_name = self
            .from_name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if let Some(n) = &from_name {
            plain_text("smtp.from_name", n)?;
            if n.chars().count() > 100 {
                return Err(field_error("smtp.from_name", "at most 100 characters"));
            }
        }
        let username = self.username.filter(|u| !u.is_empty());
        if let Some(u) = &username {
            if has_line_break_or_control(u) || u.len() > 254 {
                return Err(field_error(
                    "smtp.username",
                    "at most 254 characters, without control characters",
                ));
            }
        }
        let password = self.password.map(|p| {
            p.filter(|p| !p.is_empty()).map(|password| NewPassword {
                password,
                host: host.clone(),
                username: username.clone(),
            })
        });
        if let Some(Some(new)) = &password {
            if new.password.contains('\0') || new.password.len() > 1000 {
                return Err(field_error(
                    "smtp.password",
                    "at most 1000 characters, without NUL",
                ));
            }
        }
        let mut stored = json!({
            "host": host,
            "port": port,
            "tls": tls,
            "from_address": from_address,
            "from_name": from_name,
            "username": username,
        });
        if let Some(None) = password {
            stored["password_sealed"] = Value::Null;
        }
        Ok((stored, password))
    }
}

/// Profile fields the tenant may let users edit themselves.
const EDITABLE: [&str; 5] = [
    "first_name",
    "last_name",
    "display_name",
    "username",
    "email",
];

impl SettingsInput {
    pub fn validate(self) -> Result<SettingsChange, FieldError> {
        let mut change = SettingsChange::default();
        let patch = &mut change.patch;
        if let Some(n) = self.display_name {
            let n = n.trim().to_string();
            plain_text("display_name", &n)?;
            if n.is_empty() || n.chars().count() > 100 {
                return Err(field_error("display_name", "1 to 100 characters"));
            }
            change.display_name = Some(n);
        }
        if let Some(c) = self.accent_color {
            let ok =
                c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(field_error("accent_color", "a colour like #4f46e5"));
            }
            patch.insert("accent_color".into(), json!(c.to_ascii_lowercase()));
        }
        if let Some(logo) = self.logo_url {
            let logo = logo.filter(|l| !l.trim().is_empty());
            if let Some(l) = &logo {
                let ok = url::Url::parse(l).is_ok_and(|u| u.scheme() == "https") && l.len() <= 2000;
                if !ok {
                    return Err(field_error("logo_url", "an https URL"));
                }
                plain_text("logo_url", l)?;
            }
            patch.insert("logo_url".into(), json!(logo));
        }
        if let Some(secs) = self.session_lifetime_secs {
            if !(300..=90 * 86400).contains(&secs) {
                return Err(field_error(
                    "session_lifetime_secs",
                    "between 5 minutes and 90 days",
                ));
            }
            patch.insert("session_lifetime_secs".into(), json!(secs));
        }
        if let Some(mode) = self.signup_mode {
            patch.insert("signup_mode".into(), json!(mode));
        }
        if let Some(fields) = self.user_editable_fields {
            if let Some(bad) = fields.iter().find(|f| !EDITABLE.contains(&f.as_str())) {
                return Err(field_error(
                    "user_editable_fields",
                    format!("{bad} is not a profile field"),
                ));
            }
            patch.insert("user_editable_fields".into(), json!(fields));
        }
        if let Some(days) = self.audit_retention_days {
            if !(1..=3650).contains(&days) {
                return Err(field_error("audit_retention_days", "between 1 and 3650"));
            }
            patch.insert("audit_retention_days".into(), json!(days));
        }
        if let Some(on) = self.emails_verified {
            patch.insert("emails_verified".into(), json!(on));
        }
        if let Some(on) = self.strict_reads {
            patch.insert("strict_reads".into(), json!(on));
        }
        if let Some(on) = self.recovery_codes {
            patch.insert("recovery_codes".into(), json!(on));
        }
        if let Some(secs) = self.refresh_grace_secs {
            if secs > crate::oidc::refresh::MAX_GRACE_SECS {
                return Err(field_error(
                    "refresh_grace_secs",
                    "between 0 and 60 seconds",
                ));
            }
            patch.insert("refresh_grace_secs".into(), json!(secs));
        }
        let mut new_password = None;
        if let Some(smtp) = self.smtp {
            match smtp {
                None => {
                    patch.insert("smtp".into(), Value::Null);
                }
                Some(input) => {
                    let (stored, password) = input.validate()?;
                    patch.insert("smtp".into(), stored);
                    new_password = password.flatten();
                }
            }
        }
        if let Some(on) = self.email_sign_in_codes {
            patch.insert("email_sign_in_codes".into(), json!(on));
        }
        change.smtp_password = new_password;
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::TenantSettings;

    fn input(v: Value) -> SettingsInput {
        serde_json::from_value(v).unwrap()
    }

    /// What SQLite's `json_patch(stored, patch)` does (RFC 7396, nested objects merged).
    fn merge(stored: &TenantSettings, patch: &Map<String, Value>) -> TenantSettings {
        fn apply(target: &mut Value, patch: &Map<String, Value>) {
            if !target.is_object() {
                *target = json!({});
            }
            let obj = target.as_object_mut().unwrap();
            for (k, val) in patch {
                match val {
                    Value::Null => {
                        obj.remove(k);
                    }
                    Value::Object(inner) => {
                        apply(obj.entry(k.clone()).or_insert(Value::Null), inner);
                    }
                    other => {
                        obj.insert(k.clone(), other.clone());
                    }
                }
            }
        }
        let mut v = serde_json::to_value(stored).unwrap();
        apply(&mut v, patch);
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_the_fields_sent_are_in_the_patch() {
        let c = input(json!({"signup_mode": "open"})).validate().unwrap();
        assert_eq!(c.display_name, None);
        assert_eq!(
            c.patch,
            json!({"signup_mode": "open"}).as_object().unwrap().clone()
        );
        let c = input(json!({"accent_color": "#0A7F3F", "audit_retention_days": 7}))
            .validate()
            .unwrap();
        assert_eq!(
            c.patch,
            json!({"accent_color": "#0a7f3f", "audit_retention_days": 7})
                .as_object()
                .unwrap()
                .clone()
        );
        let c = input(json!({"emails_verified": true})).validate().unwrap();
        assert_eq!(
            c.patch,
            json!({"emails_verified": true})
                .as_object()
                .unwrap()
                .clone()
        );
    }

    #[test]
    fn patches_of_different_fields_compose_in_any_order() {
        let a = input(json!({"signup_mode": "open"})).validate().unwrap();
        let b = input(json!({"audit_retention_days": 7}))
            .validate()
            .unwrap();
        let base = TenantSettings::default();
        let ab = merge(&merge(&base, &a.patch), &b.patch);
        let ba = merge(&merge(&base, &b.patch), &a.patch);
        assert_eq!(ab, ba);
        assert_eq!(ab.signup_mode, SignupMode::Open);
        assert_eq!(ab.audit_retention_days, 7);
    }

    #[test]
    fn a_null_logo_removes_it_and_a_missing_one_keeps_it() {
        assert!(input(json!({})).validate().unwrap().patch.is_empty());
        let with_logo = TenantSettings {
            logo_url: Some("https://x.example/logo.png".into()),
            ..TenantSettings::default()
        };
        for body in [json!({"logo_url": null}), json!({"logo_url": " "})] {
            let c = input(body).validate().unwrap();
            assert_eq!(merge(&with_logo, &c.patch).logo_url, None);
        }
    }

    #[test]
    fn each_field_is_validated_and_named() {
        for (body, field) in [
            (json!({"display_name": " "}), "display_name"),
            (json!({"display_name": "Acme\u{202E}"}), "display_name"),
            (json!({"accent_color": "red"}), "accent_color"),
            (json!({"logo_url": "http://x.example/l.png"}), "logo_url"),
            (
                json!({"session_lifetime_secs": 10}),
                "session_lifetime_secs",
            ),
            (
                json!({"user_editable_fields": ["is_admin"]}),
                "user_editable_fields",
            ),
            (json!({"audit_retention_days": 0}), "audit_retention_days"),
        ] {
            assert_eq!(
                input(body.clone()).validate().unwrap_err().field,
                field,
                "{body}"
            );
        }
        assert!(serde_json::from_value::<SettingsInput>(json!({"nope": 1})).is_err());
    }

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_base64(&base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [byte; 32],
        ))
        .unwrap()
    }

    fn smtp(extra: Value) -> Value {
        let mut v = json!({
            "host": "SMTP.Acme.test",
            "from_address": "id@acme.test",
            "username": "mailer",
        });
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        json!({ "smtp": v })
    }

    #[test]
    fn the_smtp_password_is_sealed_bound_to_its_server_and_never_shown() {
        let key = master(3);
        let change = input(smtp(json!({"password": "hunter2", "tls": "tls"})))
            .validate()
            .unwrap();
        assert!(change.smtp_password.is_some(), "sealed later");
        assert!(
            !format!("{change:?}").contains("hunter2"),
            "not even in debug output"
        );
        let change = change.seal(&key, "t1");
        assert!(change.smtp_password.is_none());
        let stored = &change.patch["smtp"];
        assert_eq!(stored["host"], "smtp.acme.test");
        assert_eq!(stored["port"], 465, "the TLS mode's port");
        assert!(!stored.to_string().contains("hunter2"));
        let settings = merge(&TenantSettings::default(), &change.patch);
        let own = settings.smtp.clone().unwrap();
        assert_eq!(own.password("t1", &key).as_deref(), Some("hunter2"));
        // What the API shows: whether a password is set, never the password or its seal.
        let shown = view(&settings, "t1", &key);
        assert_eq!(shown["smtp"]["password_set"], true);
        assert!(shown["smtp"].get("password_sealed").is_none());
        assert!(!shown.to_string().contains("hunter2"));
        assert!(!shown
            .to_string()
            .contains(own.password_sealed.as_deref().unwrap()));

        // Another host without the password again: the stored one no longer opens.
        let moved = input(smtp(json!({"host": "smtp.evil.test"})))
            .validate()
            .unwrap();
        assert!(moved.smtp_password.is_none());
        let moved = merge(&settings, &moved.seal(&key, "t1").patch);
        assert_eq!(moved.smtp.as_ref().unwrap().host, "smtp.evil.test");
        assert_eq!(view(&moved, "t1", &key)["smtp"]["password_set"], false);
        assert!(moved.smtp.unwrap().password("t1", &key).is_none());
        // null removes the password; `smtp: null` the whole server.
        let removed = input(smtp(json!({"password": null}))).validate().unwrap();
        assert_eq!(removed.patch["smtp"]["password_sealed"], Value::Null);
        let gone = input(json!({"smtp": null})).validate().unwrap();
        assert_eq!(merge(&settings, &gone.patch).smtp, None);
    }

    #[test]
    fn smtp_fields_refuse_line_breaks_and_bad_values() {
        for (extra, field) in [
            (
                json!({"host": "smtp.acme.test\r\nRCPT TO:<x>"}),
                "smtp.host",
            ),
            (json!({"host": "smtp acme"}), "smtp.host"),
            (json!({"port": 0}), "smtp.port"),
            (
                json!({"from_address": "id@acme.test\r\nBcc: eve@evil.test"}),
                "smtp.from_address",
            ),
            (
                json!({"from_address": "Acme <id@acme.test>"}),
                "smtp.from_address",
            ),
            (
                json!({"from_name": "Acme\r\nBcc: eve@evil.test"}),
                "smtp.from_name",
            ),
            (json!({"username": "mailer\r\nQUIT"}), "smtp.username"),
            (json!({"password": "a\u{0}b"}), "smtp.password"),
        ] {
            let err = input(smtp(extra.clone())).validate().unwrap_err();
            assert_eq!(err.field, field, "{extra}");
        }
        assert!(serde_json::from_value::<SettingsInput>(smtp(json!({"port": 70000}))).is_err());
        assert!(serde_json::from_value::<SettingsInput>(smtp(json!({"tls": "maybe"}))).is_err());
        assert!(serde_json::from_value::<SettingsInput>(smtp(json!({"relay": true}))).is_err());
        let on = input(json!({"email_sign_in_codes": true}))
            .validate()
            .unwrap();
        assert!(merge(&TenantSettings::default(), &on.patch).email_sign_in_codes);
    }
}
