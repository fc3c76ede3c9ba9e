//! The scheduled work (cron triggers): the hourly cleanup of expired state with the "API key
//! expires soon" notices, and the hourly key promotion (`tenancy::keys::PROMOTION_CRON`), in
//! which `next` keys that have been published long enough start signing and retired keys past
//! their publication leave the key set.

use crate::email::message::{self, MailKind};
use crate::error::{Error, Result};
use crate::storage::api_keys::{self, ExpiringKey, NoticeTenant};
use crate::storage::audit::Origin;
use crate::storage::backend::Cache;
use crate::storage::db::Db;
use crate::storage::{retention, tenant_cache, tenants};
use crate::tenancy::keys::{self, KeyChange};
use crate::usecase::email::{self as mail, Post};

/// Tenants whose keys one promotion run changes at most: each costs up to two D1 queries and
/// an invocation may make 50 on the free plan. The rest wait for the next run.
pub const MAX_TENANTS_PER_RUN: usize = 20;

/// Deletes expired one-time state, sessions, parked requests, codes, tokens, grants, and audit
/// entries past each tenant's retention.
pub async fn clean_up(db: &Db, now: i64) -> Result<()> {
    retention::clean_up(db, now).await
}

/// API keys get their "expires soon" notice this long before they expire.
pub const NOTICE_WINDOW_SECS: i64 = 7 * 86400;

/// Mails one run sends at most: each is a socket (a subrequest), and the cron's invocation has
/// a budget of those and of D1 queries. The rest go next hour.
pub const MAX_MAILS_PER_RUN: usize = 20;

/// Admins one key's notice goes to at most (when its creator cannot take it).
pub const MAX_RECIPIENTS_PER_KEY: usize = 5;

/// Runs that may fail to send a key's notice before it is given up: a broken mail server costs
/// a few audited attempts, never an hourly mail.
pub const MAX_NOTICE_ATTEMPTS: i64 = 3;

/// What a notice run did, for the log and the tests.
#[derive(Debug, Default)]
pub struct NoticeReport {
    /// Keys whose notice went to at least one admin (now marked: never again).
    pub sent: Vec<String>,
    /// Keys whose every mail failed, or that have no admin with an address to tell (one more
    /// attempt counted; retried next hour up to [`MAX_NOTICE_ATTEMPTS`]).
    pub unsent: Vec<String>,
    /// Keys left for the next run: this one's mail budget was spent.
    pub deferred: Vec<String>,
    /// Keys whose handling failed on storage (the others went ahead), with the cause.
    pub failed: Vec<(String, Error)>,
}

/// Sends the notices of API keys that expire within [`NOTICE_WINDOW_SECS`] of `now` and have
/// had none: to the admin who created the key if they still can take it (enabled, admin, with
/// an address), else to the tenant's admins with an address (at most
/// [`MAX_RECIPIENTS_PER_KEY`]). At most [`MAX_MAILS_PER_RUN`] mails; every attempt audited.
/// Links go to the host the key was minted on (`tenancy::tenant_issuer`).
pub async fn send_key_expiry_notices(
    db: &Db,
    post: &Post,
    base_domain: &str,
    now: i64,
) -> Result<NoticeReport> {
    let (keys, tenants) = api_keys::expiring_soon(
        db,
        now,
        NOTICE_WINDOW_SECS,
        MAX_NOTICE_ATTEMPTS,
        MAX_MAILS_PER_RUN,
    )
    .await?;
    // The next hour is a notice's retry (counted, capped): a failed mail is not also queued
    // for the mail retries, which this run could not see and would then send twice.
    let post = &Post {
        retries: None,
        ..post.clone()
    };
    let mut report = NoticeReport::default();
    let mut budget = MAX_MAILS_PER_RUN;
    for key in keys {
        let recipients = key.recipients.len().min(MAX_RECIPIENTS_PER_KEY);
        if recipients > budget {
            report.deferred.push(key.id);
            continue;
        }
        budget -= recipients;
        let Some(tenant) = tenants.iter().find(|t| t.tenant.id == key.tenant_id) else {
            continue; // Listed with its keys in one transaction: cannot happen.
        };
        // One key's (or tenant's) failure must not hold back the others.
        match notify(db, post, base_domain, tenant, &key, now).await {
            Ok(true) => report.sent.push(key.id),
            Ok(false) => report.unsent.push(key.id),
            Err(e) => report.failed.push((key.id, e)),
        }
    }
    // Listing counted an attempt for every key; those the budget left untried keep theirs.
    api_keys::release_attempts(db, &report.deferred).await?;
    Ok(report)
}

/// Sends `key`'s notice to its recipients and records the outcome; whether any mail went.
async fn notify(
    db: &Db,
    post: &Post,
    base_domain: &str,
    tenant: &NoticeTenant,
    key: &ExpiringKey,
    now: i64,
) -> Result<bool> {
    let t = &tenant.tenant;
    let issuer =
        crate::tenancy::tenant_issuer(key.issuer.as_deref(), &t.slug, &tenant.domains, base_domain);
    let brand = mail::brand(t, &issuer);
    let created_by = creator(key);
    let about = message::ExpiringKey {
        name: &key.name,
        expires_at: key.expires_at,
        created_by: &created_by,
    };
    // No request, so no IP: the entries say what the cron did.
    let origin = Origin::default();
    let mut sent = false;
    for r in key.recipients.iter().take(MAX_RECIPIENTS_PER_KEY) {
        let body = message::api_key_expiring_mail(&brand, &r.email, Some(&r.name), &about, now);
        let user = Some(r.user_id.as_str());
        match mail::prepare(t, &issuer, post, &body, user, &origin, now) {
            Ok(delivery) => {
                sent |= mail::deliver(db, post, &delivery, now).await?.is_ok();
            }
            Err(problem) => {
                let failure = (&problem).into();
                let kind = MailKind::ApiKeyExpiring;
                mail::record_failure(db, &t.id, kind, user, &origin, &failure, now).await?;
            }
        }
    }
    // The attempt was counted when the key was listed: only a success is left to record.
    if sent {
        api_keys::mark_expiry_notice_sent(db, &t.id, &key.id, now).await?;
    }
    Ok(sent)
}

/// Who made the key, as the notice says it.
fn creator(key: &ExpiringKey) -> String {
    let by = key.created_by.as_deref().unwrap_or("");
    match (by.split_once(':'), &key.creator_name) {
        (Some(("user", _)), Some(name)) => name.clone(),
        (Some(("user", _)), None) => "a user who no longer exists".into(),
        (Some(("api_key", _)), Some(name)) => format!("the API key \"{name}\""),
        (Some(("api_key", _)), None) => "an API key since deleted".into(),
        _ if by == "operator" => "the operator of this service".into(),
        _ => "someone unknown".into(),
    }
}

/// What a promotion run did.
#[derive(Debug, Default)]
pub struct PromotionReport {
    /// Tenants whose keys changed.
    pub changed: Vec<String>,
    /// Tenants whose change failed (the others went ahead), with the cause, for the log.
    pub failed: Vec<(String, Error)>,
}

/// Applies the key changes due at `now`, for at most [`MAX_TENANTS_PER_RUN`] tenants.
pub async fn promote_keys(
    db: &Db,
    cache: &dyn Cache,
    base_domain: &str,
    now: i64,
) -> Result<PromotionReport> {
    let mut report = PromotionReport::default();
    for tenant in tenants::key_work(db, now).await? {
        let changes = keys::due_changes(&tenant.keys, now);
        if changes.is_empty() {
            continue;
        }
        if report.changed.len() + report.failed.len() == MAX_TENANTS_PER_RUN {
            break;
        }
        // One tenant's failure must not hold back the others.
        match apply(db, cache, base_domain, &tenant, &changes).await {
            Ok(()) => report.changed.push(tenant.tenant_id),
            Err(e) => report.failed.push((tenant.tenant_id, e)),
        }
    }
    Ok(report)
}

async fn apply(
    db: &Db,
    cache: &dyn Cache,
    base_domain: &str,
    tenant: &tenants::KeyWork,
    changes: &[KeyChange],
) -> Result<()> {
    tenants::apply_key_changes(db, &tenant.tenant_id, changes).await?;
    // Which key signs changed: forget the cached snapshots (after the commit). Deleting a
    // retired key changes nothing served: the JWKS already left it out by its expiry.
    if changes
        .iter()
        .any(|c| matches!(c, KeyChange::Promote { .. }))
    {
        let mut hosts = vec![format!("{}.{base_domain}", tenant.slug)];
        hosts.extend(tenants::domains(db, &tenant.tenant_id).await?);
        tenant_cache::invalidate(cache, &hosts).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::jwk::SigningAlg;
    use crate::storage::backend::memory_cache::MemoryCache;
    use crate::tenancy::keys::PROMOTION_DELAY_SECS;
    use crate::tenancy::operator::Rotation;
    use crate::tenancy::{HostKind, KeyStatus};
    use crate::testing::{db, run, TestKeyMaker, NOW};
    use crate::usecase::tenants::{self as tenant_admin, OperatorCtx};

    /// `n` tenants, each with a `next` ES256 key waiting to sign.
    async fn tenants_with_waiting_keys(db: &Db, cache: &MemoryCache, n: usize) {
        let ctx = OperatorCtx {
            db,
            cache,
            base_domain: "id.test",
            now: NOW,
        };
        let maker = TestKeyMaker::default();
        let rotation = Rotation {
            algs: vec![SigningAlg::ES256],
            overlap_secs: 3600,
            immediate: false,
        };
        for i in 0..n {
            let slug = format!("tenant-{i}");
            tenant_admin::create(&ctx, &maker, &slug, "T")
                .await
                .unwrap();
            tenant_admin::rotate(&ctx, &maker, &slug, &rotation)
                .await
                .unwrap();
        }
    }

    #[test]
    fn waiting_keys_start_signing_when_due_and_the_tenant_is_served_fresh() {
        let (db, cache) = (db(), MemoryCache::default());
        run(async {
            tenants_with_waiting_keys(&db, &cache, 1).await;
            let kind = HostKind::TenantSlug("tenant-0".into());
            tenant_cache::snapshot_for(&db, &cache, "tenant-0.id.test", &kind)
                .await
                .unwrap();
            let early = promote_keys(&db, &cache, "id.test", NOW + 1).await.unwrap();
            assert!(early.changed.is_empty(), "nothing is due yet");
            assert_eq!(cache.len(), 1);
            let due = NOW + PROMOTION_DELAY_SECS + 1;
            let report = promote_keys(&db, &cache, "id.test", due).await.unwrap();
            assert_eq!(report.changed.len(), 1);
            assert!(report.failed.is_empty());
            assert!(
                cache.is_empty(),
                "the promoted tenant's snapshot is forgotten"
            );
            let snapshot = tenants::load_snapshot(&db, &kind).await.unwrap().unwrap();
            let es256: Vec<KeyStatus> = snapshot
                .keys
                .iter()
                .filter(|k| k.alg == SigningAlg::ES256)
                .map(|k| k.status)
                .collect();
            assert!(es256.contains(&KeyStatus::Current) && es256.contains(&KeyStatus::Retired));
            assert!(!es256.contains(&KeyStatus::Next));
        });
    }

    #[test]
    fn one_run_changes_at_most_its_share_of_tenants_and_the_next_run_takes_the_rest() {
        let (db, cache) = (db(), MemoryCache::default());
        run(async {
            tenants_with_waiting_keys(&db, &cache, MAX_TENANTS_PER_RUN + 1).await;
            let due = NOW + PROMOTION_DELAY_SECS + 1;
            let first = promote_keys(&db, &cache, "id.test", due).await.unwrap();
            assert_eq!(first.changed.len(), MAX_TENANTS_PER_RUN);
            let second = promote_keys(&db, &cache, "id.test", due).await.unwrap();
            assert_eq!(second.changed.len(), 1);
            assert!(!first.changed.contains(&second.changed[0]));
            clean_up(&db, due).await.unwrap();
        });
    }

    // ---- "API key expires soon" notices ----

    mod notices {
        use std::rc::Rc;

        use super::super::*;
        use crate::testing::mail::RecordingSender;
        use crate::testing::{self, admin_ctx, db, run, tenant, user, NOW};
        use crate::usecase::{api_keys as keys_admin, Actor};

        const DAY: i64 = 86400;

        fn post(recorder: &Rc<RecordingSender>) -> Post {
            Post {
                sender: recorder.clone(),
                ..testing::mail::post(1)
            }
        }

        /// A key of the tenant minted at [`NOW`] on its slug host by `actor`, expiring at
        /// `expires_at`; returns its id.
        async fn key(
            db: &Db,
            tenant_id: &str,
            actor: Actor,
            name: &str,
            expires_at: Option<i64>,
        ) -> String {
            let ctx = admin_ctx(db, tenant_id, actor);
            keys_admin::create(&ctx, "http://acme.localhost:8787", name, expires_at)
                .await
                .unwrap()
                .id
        }

        fn admin(user_id: &str) -> Actor {
            Actor::Admin {
                user_id: user_id.to_string(),
            }
        }

        async fn notices(db: &Db, recorder: &Rc<RecordingSender>, now: i64) -> NoticeReport {
            let report = send_key_expiry_notices(db, &post(recorder), "localhost", now)
                .await
                .unwrap();
            assert!(report.failed.is_empty(), "{:?}", report.failed);
            report
        }

        #[test]
        fn keys_expiring_within_seven_days_get_one_notice_and_others_none() {
            run(async {
                let db = db();
                let t = tenant(&db, "acme").await;
                let ada = user(&db, &t.id, "ada", true).await;
                let at = |d| Some(NOW + d);
                let edge = key(&db, &t.id, admin(&ada), "edge", at(7 * DAY)).await;
                let soon = key(&db, &t.id, admin(&ada), "soon", at(1)).await;
                key(&db, &t.id, admin(&ada), "later", at(7 * DAY + 1)).await;
                key(&db, &t.id, admin(&ada), "expired", at(0)).await;
                key(&db, &t.id, admin(&ada), "past", at(-DAY)).await;
                key(&db, &t.id, admin(&ada), "never", None).await;
                let recorder = Rc::new(RecordingSender::default());
                let report = notices(&db, &recorder, NOW).await;
                assert_eq!(report.sent, [soon.clone(), edge.clone()], "soonest first");
                assert!(report.unsent.is_empty() && report.deferred.is_empty());
                assert_eq!(
                    recorder.recipients(),
                    ["ada@example.com", "ada@example.com"]
                );
                let texts = recorder.texts();
                assert!(texts[0].0.contains("\"soon\""), "{:?}", texts[0]);
                assert!(texts[1].1.contains("\"edge\""));
                assert!(texts[1].1.contains("in 7 days"), "{}", texts[1].1);
                assert!(texts[1].1.contains("created by ada"), "{}", texts[1].1);
                // Links on the host the key was minted on (with the dev server's port).
                assert!(texts[0]
                    .1
                    .contains("http://acme.localhost:8787/admin#/api-keys"));
                assert_eq!(testing::api_key_notice(&db, &edge).await, (Some(NOW), 1));
                // Every attempt in the audit log, about its recipient.
                let sent: Vec<_> = testing::audit_events(&db, &t.id)
                    .await
                    .into_iter()
                    .filter(|(e, ..)| e == "email_sent")
                    .collect();
                assert_eq!(sent.len(), 2);
                assert_eq!(sent[0].1.as_deref(), Some(ada.as_str()));
                assert_eq!(sent[0].2["kind"], "api_key_expiring");
                // Once only: the next runs send nothing, for these or for "later" until it is
                // within the window.
                let again = notices(&db, &recorder, NOW).await;
                assert!(again.sent.is_empty(), "{again:?}");
                assert_eq!(recorder.sent.borrow().len(), 2);
                let later = notices(&db, &recorder, NOW + 1).await;
                assert_eq!(later.sent.len(), 1, "\"later\" now expires within 7 days");
                assert!(recorder.texts()[2].1.contains("\"later\""));
            });
        }

        #[test]
        fn the_creator_gets_the_notice_while_they_can_else_the_tenants_admins_with_an_address() {
            run(async {
                let db = db();
                let t = tenant(&db, "acme").await;
                let ada = user(&db, &t.id, "ada", true).await;
                let bob = user(&db, &t.id, "bob", true).await;
                let cat = user(&db, &t.id, "cat", true).await;
                let dan = user(&db, &t.id, "dan", false).await;
                let eve = user(&db, &t.id, "eve", true).await;
                testing::set_disabled(&db, &cat, true).await;
                testing::clear_email(&db, &eve).await;
                let soon = |d: i64| Some(NOW + d * 3600);
                // Bob made it and can take it: only Bob.
                key(&db, &t.id, admin(&bob), "by-bob", soon(1)).await;
                // Made by someone who cannot take it (disabled, not an admin, no address, gone),
                // by another key or by the operator: every enabled admin with an address.
                for (i, actor) in [
                    admin(&cat),
                    admin(&dan),
                    admin(&eve),
                    admin("user-gone"),
                    Actor::ApiKey { id: "k1".into() },
                    Actor::Operator,
                ]
                .into_iter()
                .enumerate()
                {
                    key(&db, &t.id, actor, &format!("k{i}"), soon(2 + i as i64)).await;
                }
                let recorder = Rc::new(RecordingSender::default());
                let report = notices(&db, &recorder, NOW).await;
                assert_eq!(report.sent.len(), 7, "{report:?}");
                let to = recorder.recipients();
                assert_eq!(to[0], "bob@example.com");
                for pair in to[1..].chunks(2) {
                    assert_eq!(pair, ["ada@example.com", "bob@example.com"]);
                }
                let texts = recorder.texts();
                assert!(texts[1].1.contains("created by cat"), "{}", texts[1].1);
                assert!(
                    texts[7].1.contains("a user who no longer exists"),
                    "{}",
                    texts[7].1
                );
                assert!(texts[11].1.contains("the operator"), "{}", texts[11].1);
                let _ = ada;
            });
        }

        #[test]
        fn a_key_without_a_creator_to_tell_goes_to_at_most_a_few_admins() {
            run(async {
                let db = db();
                let t = tenant(&db, "acme").await;
                for i in 0..MAX_RECIPIENTS_PER_KEY + 2 {
                    user(&db, &t.id, &format!("admin{i}"), true).await;
                }
                key(&db, &t.id, Actor::Operator, "k", Some(NOW + DAY)).await;
                let recorder = Rc::new(RecordingSender::default());
                assert_eq!(notices(&db, &recorder, NOW).await.sent.len(), 1);
                let to = recorder.recipients();
                assert_eq!(to.len(), MAX_RECIPIENTS_PER_KEY);
                assert_eq!(to[0], "admin0@example.com", "oldest accounts first");
            });
        }

        #[test]
        fn a_key_nobody_can_be_told_about_is_tried_a_few_times_then_given_up() {
            run(async {
                let db = db();
                let t = tenant(&db, "acme").await;
                let dan = user(&db, &t.id, "dan", false).await;
                let id = key(&db, &t.id, admin(&dan), "orphan", Some(NOW + DAY)).await;
                let recorder = Rc::new(RecordingSender::default());
                for run in 0..MAX_NOTICE_ATTEMPTS + 2 {
                    notices(&db, &recorder, NOW + run * 3600).await;
                }
                assert!(recorder.sent.borrow().is_empty());
                assert_eq!(
                    testing::api_key_notice(&db, &id).await,
                    (None, MAX_NOTICE_ATTEMPTS)
                );
            });
        }

        #[test]
        fn one_run_sends_at_most_its_share_of_mails_and_the_next_run_the_rest() {
            run(async {
                let db = db();
                let t = tenant(&db, "acme").await;
                let ada = user(&db, &t.id, "ada", true).await;
                for i in 0..MAX_MAILS_PER_RUN + 3 {
                    let expires = Some(NOW + DAY + i as i64);
                    key(&db, &t.id, admin(&ada), &format!("k{i}"), expires).await;
                }
                let recorder = Rc::new(RecordingSender::default());
                let first = notices(&db, &recorder, NOW).await;
                assert_eq!(first.sent.len(), MAX_MAILS_PER_RUN);
                assert_eq!(recorder.sent.borrow().len(), MAX_MAILS_PER_RUN);
                let second = notices(&db, &recorder, NOW + 3600).await;
                assert_eq!(second.sent.len(), 3);
                assert!(second.sent.iter().all(|k| !first.sent.contains(k)));
                // A key with more recipients than the budget has left waits for the next run.
                let bob = user(&db, &t.id, "bob", true).await;
                for i in 0..MAX_MAILS_PER_RUN - 1 {
                    let expires = Some(NOW + 2 * DAY + i as i64);
                    key(&db, &t.id, admin(&bob), &format!("b{i}"), expires).await;
                }
                let wide = key(&db, &t.id, Actor::Operator, "wide", Some(NOW + 3 * DAY)).await;
                let third = notices(&db, &recorder, NOW + 7200).await;
                assert_eq!(third.sent.len(), MAX_MAILS_PER_RUN - 1);
                assert_eq!(third.deferred, std::slice::from_ref(&wide));
                assert_eq!(testing::api_key_notice(&db, &wide).await, (None, 0));
                let fourth = notices(&db, &recorder, NOW + 3 * 3600).await;
                assert_eq!(fourth.sent, [wide]);
                // 20 + 3 + 19, then the wide key to both admins.
                assert_eq!(recorder.sent.borrow().len(), 2 * MAX_MAILS_PER_RUN + 4);
            });
        }

        #[test]
        fn a_failing_server_is_retried_hourly_a_few_times_and_holds_back_no_other_tenant() {
            run(async {
                let db = db();
                let a = tenant(&db, "acme").await;
                let b = tenant(&db, "beta").await;
                let ada = user(&db, &a.id, "ada", true).await;
                let bob = user(&db, &b.id, "bob", true).await;
                // Acme's key expires first, so it goes first and fails first.
                let failing = key(&db, &a.id, admin(&ada), "a", Some(NOW + DAY)).await;
                let fine = key(&db, &b.id, admin(&bob), "b", Some(NOW + 2 * DAY)).await;
                let recorder = Rc::new(RecordingSender::default());
                recorder.refuse.borrow_mut().push("ada@example.com".into());
                let first = notices(&db, &recorder, NOW).await;
                assert_eq!(first.unsent, std::slice::from_ref(&failing));
                assert_eq!(first.sent, std::slice::from_ref(&fine));
                assert_eq!(recorder.recipients(), ["bob@example.com"]);
                let failed: Vec<_> = testing::audit_events(&db, &a.id)
                    .await
                    .into_iter()
                    .filter(|(e, ..)| e == "email_failed")
                    .collect();
                assert_eq!(failed.len(), 1);
                assert_eq!(failed[0].2["kind"], "api_key_expiring");
                assert_eq!(failed[0].2["smtp_code"], 550);
                // Retried next hour, up to the cap, then given up: never an hourly mail.
                for run in 1..MAX_NOTICE_ATTEMPTS + 2 {
                    notices(&db, &recorder, NOW + run * 3600).await;
                }
                assert_eq!(
                    testing::api_key_notice(&db, &failing).await,
                    (None, MAX_NOTICE_ATTEMPTS)
                );
                let failures = testing::audit_events(&db, &a.id)
                    .await
                    .into_iter()
                    .filter(|(e, ..)| e == "email_failed")
                    .count();
                assert_eq!(failures as i64, MAX_NOTICE_ATTEMPTS);
                recorder.refuse.borrow_mut().clear();
                notices(&db, &recorder, NOW + 10 * 3600).await;
                assert_eq!(recorder.recipients(), ["bob@example.com"]);
            });
        }

        #[test]
        fn a_failure_and_then_a_success_marks_the_key_done() {
            run(async {
                let db = db();
                let t = tenant(&db, "acme").await;
                let ada = user(&db, &t.id, "ada", true).await;
                let id = key(&db, &t.id, admin(&ada), "k", Some(NOW + DAY)).await;
                let recorder = Rc::new(RecordingSender::default());
                recorder.refuse.borrow_mut().push("ada@example.com".into());
                notices(&db, &recorder, NOW).await;
                recorder.refuse.borrow_mut().clear();
                let second = notices(&db, &recorder, NOW + 3600).await;
                assert_eq!(second.sent, std::slice::from_ref(&id));
                assert_eq!(
                    testing::api_key_notice(&db, &id).await,
                    (Some(NOW + 3600), 2)
                );
                assert!(notices(&db, &recorder, NOW + 7200).await.sent.is_empty());
            });
        }

        #[test]
        fn the_notice_goes_over_real_smtp_through_the_deployments_default_server() {
            run(async {
                let db = db();
                let t = tenant(&db, "acme").await;
                let ada = user(&db, &t.id, "ada", true).await;
                key(&db, &t.id, admin(&ada), "deploy", Some(NOW + 3 * DAY)).await;
                let (port, server) = testing::mail::loopback_server();
                let report =
                    send_key_expiry_notices(&db, &testing::mail::post(port), "localhost", NOW)
                        .await
                        .unwrap();
                assert_eq!(report.sent.len(), 1, "{report:?}");
                let data = server.join().unwrap();
                let parsed = mail_parser::MessageParser::default()
                    .parse(data.as_bytes())
                    .unwrap();
                assert_eq!(
                    parsed.to().unwrap().first().unwrap().address(),
                    Some("ada@example.com")
                );
                let text = parsed.body_text(0).unwrap();
                assert!(text.contains("\"deploy\""), "{text}");
                assert!(text.contains("2026-01-04 00:00 UTC"), "{text}");
                assert!(text.contains("in 3 days"), "{text}");
            });
        }

        #[test]
        fn suspended_tenants_get_no_notices() {
            run(async {
                let db = db();
                let t = tenant(&db, "acme").await;
                let ada = user(&db, &t.id, "ada", true).await;
                key(&db, &t.id, admin(&ada), "k", Some(NOW + DAY)).await;
                crate::storage::tenants::set_status(
                    &db,
                    &t.id,
                    crate::tenancy::TenantStatus::Suspended,
                    NOW,
                )
                .await
                .unwrap();
                let recorder = Rc::new(RecordingSender::default());
                assert!(notices(&db, &recorder, NOW).await.sent.is_empty());
                assert!(recorder.sent.borrow().is_empty());
            });
        }
    }
}
