//! Email: which SMTP server a tenant's mail goes through ([`config`]), the mails themselves
//! ([`message`], MIME by `mail-builder`) and the SMTP dialogue without I/O ([`smtp`]). Pure
//! Rust, no Workers types: the Worker's socket transport is in `http::mail`, a loopback one for
//! native tests in `testing::mail`.

pub mod config;
pub mod message;
pub mod retry;
pub mod smtp;
