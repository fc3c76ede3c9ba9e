//! `/login/email`: signing in with a one-time code sent by email (tenant opt-in). Parses the
//! forms, calls `usecase::email_code`, renders; the mail is sent after the response.

use worker::Response;

use crate::account::next::safe_next;
use crate::error::Result;
use crate::http::render::{brand, render};
use crate::http::request::{form_field as field, TenantRequest};
use crate::http::respond::set_header;
use crate::http::session;
use crate::ui::{self, EmailCodeForm, EmailLoginPage};
use crate::usecase::authorize::Browser;
use crate::usecase::email_code::{self, Tried};

fn with_next(path: &str, next: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    format!("{path}?{query}")
}

fn page(
    req: &TenantRequest<'_>,
    next: &str,
    code_form: Option<EmailCodeForm>,
    add_passkey: bool,
    error: Option<String>,
) -> EmailLoginPage {
    EmailLoginPage {
        tenant: brand(req),
        asset_version: ui::asset_version(),
        next: next.to_string(),
        code_form,
        add_passkey,
        error,
        ask_again_url: with_next("/login/email", next),
        passkey_login_url: with_next("/login", next),
    }
}

/// `GET /login/email`: the address form.
pub async fn ask(req: TenantRequest<'_>) -> Result<Response> {
    if !email_code::offered(&req.ctx()?) {
        return Err(crate::error::Error::NotFound(
            "Email sign-in is not offered here. This page".into(),
        ));
    }
    let next = safe_next(req.incoming.query_param("next"), &req.issuer);
    render(&page(&req, &next, None, false, None))
}

/// `POST /login/email`: writes the code and answers with the code form, the same page whether
/// or not an account has the address; the mail goes out after the response.
pub async fn request(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = req.incoming.form().await?;
    let next = safe_next(Some(&field(&form, "next")), &req.issuer);
    let (browser, set_browser) = session::browser_id_or_new(&req);
    let post = req.app.post()?;
    let ctx = req.ctx()?;
    let requested = match email_code::request(&ctx, &post, &browser, &field(&form, "email")).await {
        Ok(r) => r,
        Err(crate::error::Error::Invalid { message, .. }) => {
            return render(&page(&req, &next, None, false, Some(message)));
        }
        Err(e) => return Err(e),
    };
    if let Some(delivery) = requested.delivery {
        crate::http::mail::send_after_response(req.app, post, delivery, req.now)?;
    }
    let code_form = EmailCodeForm {
        pending: requested.pending,
        email: requested.email,
    };
    let mut resp = render(&page(&req, &next, Some(code_form), false, None))?;
    if let Some(cookie) = set_browser {
        resp.headers_mut().append("Set-Cookie", &cookie).ok();
    }
    Ok(resp)
}

/// `POST /login/email/code`: the code. Right: the session starts and the page offers to add a
/// passkey on this device, then goes on to `next` (a waiting authorization request resumes
/// there). Wrong: the code form again with why.
pub async fn sign_in(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = req.incoming.form().await?;
    let next = safe_next(Some(&field(&form, "next")), &req.issuer);
    let pending = field(&form, "pending");
    let browser_id = session::browser_id(&req).unwrap_or_default();
    let browser = Browser {
        session: None,
        id: &browser_id,
    };
    let ctx = req.ctx()?;
    let post = req.app.post()?;
    match email_code::sign_in(&ctx, &post, browser, &pending, &field(&form, "code")).await? {
        Tried::SignedIn(mut started) => {
            crate::http::mail::send_notice(req.app, post, started.notice.take(), req.now)?;
            let mut resp = render(&page(&req, &next, None, true, None))?;
            set_header(
                &mut resp,
                "Set-Cookie",
                &session::set_cookie(&req, &started.id, started.max_age),
            );
            Ok(resp)
        }
        Tried::Refused(refusal) => {
            let message = refusal.message().to_string();
            let form = email_code::pending_email(&ctx, &browser_id, &pending)
                .filter(|_| refusal == email_code::Refusal::Wrong)
                .map(|email| EmailCodeForm { pending, email });
            let mut resp = render(&page(&req, &next, form, false, Some(message)))?;
            resp = resp.with_status(400);
            Ok(resp)
        }
    }
}
