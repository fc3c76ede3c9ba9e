//! How the authorization response travels back to the client: in the redirect's query string,
//! in its fragment (OAuth 2.0 Multiple Response Type Encoding Practices §2.1: the parameters
//! never reach the client's server logs), or as an auto-submitted form (OAuth 2.0 Form Post
//! Response Mode). Its own module because both
//! the request (`authorize`, which parses it) and the response (`response`, which delivers it)
//! need it, and the response already depends on the request.

use serde::{Deserialize, Serialize};

use super::error::OAuthError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    pub fn parse(raw: &str) -> Result<Self, OAuthError> {
        match raw {
            "query" => Ok(ResponseMode::Query),
            "fragment" => Ok(ResponseMode::Fragment),
            "form_post" => Ok(ResponseMode::FormPost),
            other => Err(OAuthError::invalid_request(format!(
                "response_mode {other} is not supported (use query, fragment or form_post)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_modes_are_refused() {
        assert!(ResponseMode::parse("form_post.jwt").is_err());
        assert!(ResponseMode::parse("FRAGMENT").is_err());
        assert_eq!(
            ResponseMode::parse("fragment").unwrap(),
            ResponseMode::Fragment
        );
        assert_eq!(
            ResponseMode::parse("form_post").unwrap(),
            ResponseMode::FormPost
        );
    }
}
