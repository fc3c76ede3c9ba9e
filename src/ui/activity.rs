//! The person's own audit entries as sentences for their account page ("Signed in with a
//! passkey (Phone)"). Events without a sentence of their own show their name, so a new kind of
//! entry is never hidden from the person it is about.

use serde_json::Value;

/// What an entry of `event` with `details` (its JSON) says to the person it is about.
pub fn describe(event: &str, details: &str) -> String {
    let details: Value = serde_json::from_str(details).unwrap_or(Value::Null);
    let text = |key: &str| details[key].as_str().map(str::to_string);
    match event {
        "sign_in" => match details["method"].as_str() {
            Some("passkey") => match text("passkey") {
                Some(name) => format!("Signed in with a passkey ({name})"),
                None => "Signed in with a passkey".into(),
            },
            Some("recovery_code") => "Signed in with a recovery code".into(),
            Some("other_device") => "Signed in, approved on another device".into(),
            Some("one_time_link") => "Signed in with a one-time link".into(),
            _ => "Signed in".into(),
        },
        "sign_in_failed" => "A sign-in failed".into(),
        "sign_up" => "Created the account".into(),
        "passkey_added" => "Added a passkey".into(),
        "passkey_removed" => "Removed a passkey".into(),
        "recovery_codes_created" => "Made new recovery codes".into(),
        "other_device_approved" => "Approved a sign-in on another device".into(),
        "other_device_denied" => "Denied a sign-in on another device".into(),
        "app_access_revoked" => "Removed an app's access".into(),
        "logout" | "user_signed_out" => "Signed out".into(),
        "one_time_link_created" => "An admin made a one-time sign-in link".into(),
        "user_updated" => "Account details changed".into(),
        "email_verification_sent" => "Asked for a link to verify the email address".into(),
        "email_verified" => "Verified the email address".into(),
        "authorize" => "Signed in to an app".into(),
        "sign_in_notices_changed" => match details["on"].as_bool() {
            Some(true) => "Turned sign-in notices on".into(),
            _ => "Turned sign-in notices off".into(),
        },
        "email_sent" => format!("Emailed you {}", mail(details["kind"].as_str())),
        "email_failed" => format!("Could not email you {}", mail(details["kind"].as_str())),
        other => other.replace('_', " "),
    }
}

/// What a mail of `kind` (`MailKind::as_str`) was, after "Emailed you".
fn mail(kind: Option<&str>) -> &'static str {
    match kind {
        Some("new_device_sign_in") => "about a sign-in from a new device",
        Some("sign_in_code") => "a sign-in code",
        Some("login_link") => "a one-time sign-in link",
        Some("email_verification") => "a link to verify your address",
        Some("invitation") => "an invitation",
        _ => "a message",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_ins_say_how_and_unknown_events_still_show() {
        assert_eq!(
            describe("sign_in", r#"{"method":"passkey","passkey":"Phone"}"#),
            "Signed in with a passkey (Phone)"
        );
        assert_eq!(
            describe("sign_in", r#"{"method":"recovery_code"}"#),
            "Signed in with a recovery code"
        );
        assert_eq!(describe("sign_in", "not json"), "Signed in");
        assert_eq!(describe("brand_new_event", "{}"), "brand new event");
        assert_eq!(
            describe(
                "email_sent",
                r#"{"kind":"new_device_sign_in","server":"x"}"#
            ),
            "Emailed you about a sign-in from a new device"
        );
        assert_eq!(
            describe("sign_in_notices_changed", r#"{"on":true}"#),
            "Turned sign-in notices on"
        );
    }
}
