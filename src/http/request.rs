//! What handlers need from an incoming request, parsed once.

use serde::de::DeserializeOwned;
use worker::{Method, Request};

use crate::error::{Error, Result};
use crate::tenancy::{RequestHost, TenantSnapshot};

use super::app::App;

/// Request bodies larger than this are refused before parsing (forms and JSON are small here).
const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct Incoming {
    pub req: Request,
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub host: RequestHost,
    pub is_https: bool,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<String> {
        self.req.headers().get(name).ok().flatten()
    }

    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn client_ip(&self) -> Option<String> {
        self.header("cf-connecting-ip")
    }

    pub fn user_agent(&self) -> Option<String> {
        self.header("user-agent")
    }

    /// The request's origin for the audit log (IP, user agent, Cloudflare geo data).
    pub fn audit_origin(&self) -> crate::storage::audit::Origin {
        let cf = self.req.cf();
        crate::storage::audit::Origin {
            ip: self.client_ip(),
            user_agent: self.user_agent().map(|ua| ua.chars().take(300).collect()),
            country: cf.and_then(|c| c.country()),
            city: cf.and_then(|c| c.city()),
            asn: cf.and_then(|c| c.asn()).map(i64::from),
        }
    }

    async fn body_bytes(&mut self) -> Result<Vec<u8>> {
        if let Some(len) = self
            .header("content-length")
            .and_then(|l| l.parse::<usize>().ok())
        {
            if len > MAX_BODY_BYTES {
                return Err(Error::BadRequest("the request body is too large".into()));
            }
        }
        let bytes = self
            .req
            .bytes()
            .await
            .map_err(|_| Error::BadRequest("the request body could not be read".into()))?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(Error::BadRequest("the request body is too large".into()));
        }
        Ok(bytes)
    }

    /// An `application/x-www-form-urlencoded` body as ordered pairs (duplicates preserved so
    /// the protocol layer can reject repeated parameters).
    pub async fn form(&mut self) -> Result<Vec<(String, String)>> {
        let content_type = self.header("content-type").unwrap_or_default();
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(Error::BadRequest(
                "expected an application/x-www-form-urlencoded body".into(),
            ));
        }
        let bytes = self.body_bytes().await?;
        Ok(url::form_urlencoded::parse(&bytes).into_owned().collect())
    }

    /// A JSON object body, parsed strictly (`validation::parse_json_object`): malformed or
    /// wrongly typed input is a 400 naming the field, never a default.
    pub async fn json<T: DeserializeOwned>(&mut self) -> Result<T> {
        let bytes = self.body_bytes().await?;
        Ok(crate::validation::parse_json_object(&bytes)?)
    }

    /// A JSON object body whose every field is optional: an empty body is `T::default()`, any
    /// other body must parse exactly like [`Self::json`].
    pub async fn optional_json<T: DeserializeOwned + Default>(&mut self) -> Result<T> {
        let bytes = self.body_bytes().await?;
        Ok(crate::validation::parse_optional_json_object(&bytes)?)
    }

    /// A JSON body that may be any value `T` accepts (not only an object), parsed strictly.
    pub async fn json_value<T: DeserializeOwned>(&mut self) -> Result<T> {
        let bytes = self.body_bytes().await?;
        Ok(crate::validation::parse_json_value(&bytes)?)
    }
}

/// A request for a resolved, active tenant.
pub struct TenantRequest<'a> {
    pub app: &'a App,
    pub incoming: Incoming,
    pub tenant: TenantSnapshot,
    /// `https://<host>` (or `http://` on localhost): the issuer and base of every URL.
    pub issuer: String,
    pub now: i64,
}

impl TenantRequest<'_> {
    /// The context a use case runs in.
    pub fn ctx(&self) -> crate::error::Result<crate::usecase::Ctx<'_>> {
        Ok(crate::usecase::Ctx {
            db: self.app.db()?,
            tenant: &self.tenant,
            issuer: &self.issuer,
            now: self.now,
            origin: self.incoming.audit_origin(),
            sealer: self.app.sealer()?,
            verifier: &crate::http::signing::WebCryptoVerifier,
            jwks: &crate::http::jwks_fetch::WorkerJwksFetcher,
        })
    }
}

/// The value of field `name` of a parsed form body, or empty when it is absent.
pub fn form_field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}
