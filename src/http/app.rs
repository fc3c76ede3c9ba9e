//! Deployment-wide configuration and bindings, read from the Worker environment.

use worker::Env;

use crate::crypto::envelope::MasterKey;
use crate::error::{Error, Result};
use crate::storage::backend::{d1::D1, kv::Kv};
use crate::storage::db::Db;

thread_local! {
    /// The parsed master key of this isolate (the Worker is single-threaded).
    static MASTER_KEY: std::cell::RefCell<Option<MasterKey>> = const { std::cell::RefCell::new(None) };
    /// The sealer of browser-carried state, derived from the master key once per isolate.
    static SEALER: std::cell::RefCell<Option<crate::crypto::sealed::Sealer>> = const { std::cell::RefCell::new(None) };
}

pub struct App {
    env: Env,
    /// The domain tenants live under (`<slug>.<base_domain>`); the bare domain is the platform.
    pub base_domain: String,
    /// When set, responses carry `x-edge-id-d1-queries` (primary round trips),
    /// `x-edge-id-d1-replica-queries` and `x-edge-id-timing` (benchmarks and tests only).
    pub expose_metrics: bool,
    db: Option<Db>,
    /// Milliseconds spent in WebCrypto signing during this request (`x-edge-id-timing`).
    sign_ms: std::cell::Cell<f64>,
    /// The request's context, for work that finishes after the response (`waitUntil`).
    context: Option<worker::Context>,
}

impl App {
    pub fn new(env: Env) -> Self {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
        let base_domain = var("BASE_DOMAIN").unwrap_or_else(|| "localhost".into());
        let expose_metrics = var("EXPOSE_METRICS").is_some_and(|v| v == "1");
        let db = env.d1("DB").ok().map(|d1| {
            let db = Db::new(D1::Primary(d1));
            // Reads that may lag (userinfo) go through a second handle, whose Sessions API
            // session a replica near the Worker may serve (opened only when used).
            match env.d1("DB") {
                Ok(again) => db.with_replica(D1::replica(again)),
                Err(_) => db,
            }
        });
        Self {
            env,
            base_domain,
            expose_metrics,
            db,
            sign_ms: std::cell::Cell::new(0.0),
            context: None,
        }
    }

    /// This app with the request's context, so [`App::after_response`] can use `waitUntil`.
    pub fn with_context(mut self, context: worker::Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Runs `work` after the response is sent, keeping the Worker alive until it ends
    /// (`ctx.waitUntil`); without a request context, still in the background.
    pub fn after_response(&self, work: impl std::future::Future<Output = ()> + 'static) {
        match &self.context {
            Some(context) => context.wait_until(work),
            None => wasm_bindgen_futures::spawn_local(work),
        }
    }

    /// What sending mail needs: the transports (SMTP sockets, the `send_email` binding), the
    /// master key, the operator's default (`SMTP_*` variables and secrets, or `EMAIL_FROM` for
    /// Cloudflare Email Service) and the `MAILS` queue for retries when it is bound. An
    /// invalid default is logged and ignored (tenants with their own server still send).
    pub fn post(&self) -> Result<crate::usecase::email::Post> {
        let var = |name: &str| {
            self.secret(name)
                .or_else(|| self.env.var(name).ok().map(|v| v.to_string()))
                .filter(|v| !v.is_empty())
        };
        let operator_default = match crate::email::config::operator_default(var) {
            Ok(default) => default,
            Err(e) => {
                worker::console_error!("{e}");
                None
            }
        };
        Ok(crate::usecase::email::Post {
            sender: std::rc::Rc::new(super::mail_transport::WorkerMailSender(self.env.clone())),
            master: self.master_key()?,
            operator_default,
            retries: self
                .queue(super::mail_transport::MAILS_BINDING)
                .map(|queue| {
                    std::rc::Rc::new(super::mail_transport::WorkerMailQueue(queue))
                        as std::rc::Rc<dyn crate::usecase::email::MailQueue>
                }),
        })
    }

    pub fn record_sign_ms(&self, ms: f64) {
        self.sign_ms.set(self.sign_ms.get() + ms);
    }

    /// `x-edge-id-timing` for benchmarks: D1 wait, signing and total wall time of the request.
    pub fn server_timing(&self, total_ms: f64) -> String {
        let d1 = self.db.as_ref().map_or(0.0, Db::waited_ms);
        format!(
            "d1;dur={d1:.2}, sign;dur={:.2}, total;dur={total_ms:.2}",
            self.sign_ms.get()
        )
    }

    pub fn db(&self) -> Result<&Db> {
        self.db
            .as_ref()
            .ok_or_else(|| Error::Internal("the D1 binding DB is missing".into()))
    }

    pub fn kv(&self) -> Result<Kv> {
        self.env
            .kv("CACHE")
            .map(Kv)
            .map_err(|_| Error::Internal("the KV binding CACHE is missing".into()))
    }

    /// A Cloudflare Queue producer binding, if configured.
    pub fn queue(&self, binding: &str) -> Option<worker::Queue> {
        self.env.queue(binding).ok()
    }

    /// A Workers Rate Limiting binding, if configured.
    pub fn rate_limiter(&self, binding: &str) -> Option<worker::RateLimiter> {
        self.env.rate_limiter(binding).ok()
    }

    fn secret(&self, name: &str) -> Option<String> {
        self.env
            .secret(name)
            .ok()
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty())
    }

    /// The key that seals tenant signing keys. Without it nothing can be signed: fail loudly.
    ///
    /// Parsed once per isolate (base64 and the AES-256 key schedule, on every token request
    /// before): a secret only changes with a new deployment, which starts new isolates.
    pub fn master_key(&self) -> Result<MasterKey> {
        if let Some(key) = MASTER_KEY.with(|k| k.borrow().clone()) {
            return Ok(key);
        }
        let secret = self.secret("MASTER_KEY").ok_or_else(|| {
            Error::Internal(
                "the MASTER_KEY secret is not set (wrangler secret put MASTER_KEY)".into(),
            )
        })?;
        let key = MasterKey::from_base64(&secret)?;
        MASTER_KEY.with(|k| *k.borrow_mut() = Some(key.clone()));
        Ok(key)
    }

    /// The sealer of browser-carried state (its subkey and AES key schedule are made once per
    /// isolate, not per request).
    pub fn sealer(&self) -> Result<crate::crypto::sealed::Sealer> {
        if let Some(sealer) = SEALER.with(|s| s.borrow().clone()) {
            return Ok(sealer);
        }
        let sealer = crate::crypto::sealed::Sealer::new(&self.master_key()?);
        SEALER.with(|s| *s.borrow_mut() = Some(sealer.clone()));
        Ok(sealer)
    }

    /// The operator API's bearer token; `None` disables the operator API.
    pub fn operator_secret(&self) -> Option<String> {
        self.secret("OPERATOR_SECRET")
    }
}
