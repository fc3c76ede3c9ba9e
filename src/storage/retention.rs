//! What the hourly cleanup (cron trigger) deletes, as SQL over the schema in `schema.sql`.
//! Each statement takes the current unix time as `?1`; [`clean_up`] runs them in one batch.
//! The tests below run them against the real schema in SQLite.

/// Expired one-time state, sessions, spent sealed values, email sign-in codes, codes, device
/// authorizations and their wrong-code counters, sign-ins with another device, tokens and
/// grants, email verification links, known browsers whose cookie has surely expired, then
/// audit entries older than each tenant's
/// `audit_retention_days` (90 when unset).
pub const CLEANUP: [&str; 14] = [
    "DELETE FROM spent_tokens WHERE expires_at < ?1",
    "DELETE FROM email_sign_in_codes WHERE expires_at < ?1",
    "DELETE FROM one_time_tokens WHERE expires_at < ?1",
    "DELETE FROM sessions WHERE expires_at < ?1",
    // Codes stay an hour past expiry so a late replay is still recognised as a replay.
    "DELETE FROM authorization_codes WHERE expires_at < ?1 - 3600",
    // Device authorizations too: a late poll with a spent device code is still told apart.
    "DELETE FROM device_authorizations WHERE expires_at < ?1 - 3600",
    "DELETE FROM device_code_failures WHERE window_ends_at < ?1",
    "DELETE FROM other_device_sign_ins WHERE expires_at < ?1",
    "DELETE FROM email_verifications WHERE expires_at < ?1",
    "DELETE FROM access_tokens WHERE expires_at < ?1",
    "DELETE FROM refresh_tokens WHERE expires_at < ?1",
    "DELETE FROM grants WHERE expires_at < ?1",
    // The `eid_browser` cookie lives a year from when it was minted, before the browser was
    // first seen: past that (and a margin), the browser can never sign in again.
    "DELETE FROM known_browsers WHERE first_seen_at < ?1 - 86400 * 400",
    "DELETE FROM audit_logs WHERE created_at < ?1 - 86400 * COALESCE((SELECT \
     json_extract(t.settings, '$.audit_retention_days') FROM tenants t \
     WHERE t.id = audit_logs.tenant_id), 90)",
];

/// Runs the cleanup at `now`, every statement in one batch (one round trip).
pub async fn clean_up(db: &super::db::Db, now: i64) -> crate::error::Result<()> {
    let statements = CLEANUP
        .iter()
        .map(|sql| db.statement(sql, crate::params![now]))
        .collect::<crate::error::Result<Vec<_>>>()?;
    db.batch(statements).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::CLEANUP;
    use rusqlite::{params, Connection};

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn db() -> Connection {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(include_str!("../../schema.sql")).unwrap();
        db.execute_batch(
            "INSERT INTO tenants (id, slug, display_name, settings, created_at, updated_at) \
             VALUES ('t1', 'a', 'A', '{\"audit_retention_days\": 1}', 0, 0);
             INSERT INTO tenants (id, slug, display_name, settings, created_at, updated_at) \
             VALUES ('t2', 'b', 'B', '{}', 0, 0);
             INSERT INTO users (id, tenant_id, username, created_at, updated_at) VALUES ('u', 't1', 'ada', 0, 0);",
        )
        .unwrap();
        db
    }

    fn run(db: &Connection) {
        for sql in CLEANUP {
            db.execute(sql, params![NOW]).unwrap();
        }
    }

    fn ids(db: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = db.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn audit_entries_go_after_each_tenants_retention() {
        let db = db();
        for (id, tenant, age) in [
            ("t1-2d", "t1", 2 * DAY),
            ("t1-1h", "t1", 3600),
            ("t2-2d", "t2", 2 * DAY),
            ("t2-89d", "t2", 89 * DAY),
            ("t2-91d", "t2", 91 * DAY),
        ] {
            db.execute(
                "INSERT INTO audit_logs (id, tenant_id, event, created_at) VALUES (?1, ?2, 'x', ?3)",
                params![id, tenant, NOW - age],
            )
            .unwrap();
        }
        run(&db);
        assert_eq!(
            ids(&db, "SELECT id FROM audit_logs ORDER BY id"),
            ["t1-1h", "t2-2d", "t2-89d"]
        );
    }

    #[test]
    fn expired_state_goes_and_live_state_stays() {
        let db = db();
        for (id, expires) in [("old", NOW - 1), ("live", NOW + 60)] {
            db.execute(
                "INSERT INTO sessions (id_hash, tenant_id, user_id, auth_time, created_at, expires_at, last_seen_at) \
                 VALUES (?1, 't1', 'u', 0, 0, ?2, 0)",
                params![id, expires],
            )
            .unwrap();
            db.execute(
                "INSERT INTO spent_tokens (id, tenant_id, expires_at) VALUES (?1, 't1', ?2)",
                params![id, expires],
            )
            .unwrap();
            db.execute(
                "INSERT INTO grants (id, tenant_id, client_id, user_id, scope, auth_time, created_at, expires_at) \
                 VALUES (?1, 't1', 'c', 'u', 'openid', 0, 0, ?2)",
                params![id, expires],
            )
            .unwrap();
        }
        for (id, expires) in [("replayable", NOW - 60), ("gone", NOW - 7200)] {
            db.execute(
                "INSERT INTO authorization_codes (code_hash, tenant_id, client_id, user_id, request, auth_time, expires_at) \
                 VALUES (?1, 't1', 'c', 'u', '{}', 0, ?2)",
                params![id, expires],
            )
            .unwrap();
        }
        for (id, expires) in [("replayable", NOW - 60), ("gone", NOW - 7200)] {
            db.execute(
                "INSERT INTO device_authorizations (device_code_hash, tenant_id, client_id, user_code_hash, scope, \
                 interval_secs, created_at, expires_at) VALUES (?1, 't1', 'c', ?1, 'openid', 5, 0, ?2)",
                params![id, expires],
            )
            .unwrap();
        }
        for (tenant, window_ends) in [("t1", NOW - 1), ("t2", NOW + 60)] {
            db.execute(
                "INSERT INTO device_code_failures (tenant_id, user_id, failures, window_ends_at) VALUES (?1, 'u', 5, ?2)",
                params![tenant, window_ends],
            )
            .unwrap();
        }
        for (hash, first_seen) in [("expired", NOW - 401 * DAY), ("live", NOW - 399 * DAY)] {
            db.execute(
                "INSERT INTO known_browsers (tenant_id, user_id, browser_hash, first_seen_at, last_seen_at) \
                 VALUES ('t1', 'u', ?1, ?2, ?2)",
                params![hash, first_seen],
            )
            .unwrap();
        }
        run(&db);
        assert_eq!(
            ids(&db, "SELECT browser_hash FROM known_browsers"),
            ["live"]
        );
        assert_eq!(
            ids(&db, "SELECT device_code_hash FROM device_authorizations"),
            ["replayable"]
        );
        assert_eq!(
            ids(&db, "SELECT tenant_id FROM device_code_failures"),
            ["t2"]
        );
        assert_eq!(ids(&db, "SELECT id_hash FROM sessions"), ["live"]);
        assert_eq!(ids(&db, "SELECT id FROM spent_tokens"), ["live"]);
        assert_eq!(ids(&db, "SELECT id FROM grants"), ["live"]);
        assert_eq!(
            ids(&db, "SELECT code_hash FROM authorization_codes"),
            ["replayable"]
        );
    }
}
