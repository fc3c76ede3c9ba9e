//! `POST /api/oidc/token`: the authorization_code and refresh_token grants
//! (`usecase::token`).

use worker::Response;

use super::{client_credentials, form};
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::{json, set_header};
use crate::http::signing::WebCryptoSigner;
use crate::oidc::token::GrantRequest;
use crate::usecase::token::{self, TokenKeys, REFRESH_SUCCESSOR_KEY};

pub async fn token(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let creds = client_credentials(&req, &form)?;
    let grant = GrantRequest::parse(&form)?;
    let keys = TokenKeys {
        signer: &WebCryptoSigner(req.app),
        refresh_successor: req.app.master_key()?.derive(REFRESH_SUCCESSOR_KEY),
    };
    let response = token::grant(&req.ctx()?, &keys, &creds, &grant).await?;
    let mut resp = json(200, &response);
    set_header(&mut resp, "Pragma", "no-cache");
    Ok(resp)
}
