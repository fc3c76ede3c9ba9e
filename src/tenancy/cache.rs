//! The per-isolate cache of tenant snapshots, as a small pure type, and the lifetimes of every
//! snapshot cache layer (the key lifecycle in `tenancy::keys` builds on them).
//!
//! A Workers isolate lives for many requests, so anything kept in its memory must be bounded:
//! the cache of unknown hosts used to be a map that only ever grew, one entry per random
//! subdomain a scanner tried. [`BoundedCache`] holds at most `capacity` entries, never serves
//! one older than its TTL, and evicts expired entries first and then the oldest.

use std::collections::HashMap;
use std::hash::Hash;

/// How long an isolate serves a tenant snapshot from memory.
pub const SNAPSHOT_MEMORY_TTL_MS: u64 = 30_000;
/// How long an isolate remembers that a host serves no tenant: short, so a tenant created a
/// moment ago is found quickly, but random subdomains still cannot each cost a D1 query.
pub const UNKNOWN_HOST_TTL_MS: u64 = 5_000;
/// Tenant snapshots kept in one isolate at most (a tenant has a few hosts).
pub const KNOWN_HOSTS_CAPACITY: usize = 4096;
/// Unknown hosts remembered in one isolate at most: apart from the known tenants, so a flood
/// of random hosts cannot push real tenants out of the cache.
pub const UNKNOWN_HOSTS_CAPACITY: usize = 1024;
/// How long a snapshot lives in KV.
pub const SNAPSHOT_KV_TTL_SECS: i64 = 300;
/// KV is eventually consistent: a write or delete can take this long to reach every location.
pub const KV_PROPAGATION_SECS: i64 = 60;
/// The longest any cache layer may serve a snapshot older than the last write to the tenant:
/// a snapshot read just before the write can land in KV just after the invalidation, live
/// there for its TTL, be seen elsewhere for the propagation delay, then sit in an isolate's
/// memory.
pub const SNAPSHOT_MAX_STALENESS_SECS: i64 =
    SNAPSHOT_KV_TTL_SECS + KV_PROPAGATION_SECS + (SNAPSHOT_MEMORY_TTL_MS / 1000) as i64;

struct Entry<V> {
    value: V,
    inserted_ms: u64,
}

/// A map with a capacity and a time to live. Times are milliseconds from any fixed origin,
/// passed in by the caller (no clock here).
pub struct BoundedCache<K, V> {
    capacity: usize,
    ttl_ms: u64,
    entries: HashMap<K, Entry<V>>,
    generation: u64,
}

/// Taken before a slow load (KV, D1); an insert with it is dropped if the cache was
/// invalidated meanwhile, because the loaded value may predate the write that invalidated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

impl<K: Eq + Hash + Clone, V: Clone> BoundedCache<K, V> {
    pub fn new(capacity: usize, ttl_ms: u64) -> Self {
        assert!(capacity > 0, "a cache holds at least one entry");
        Self {
            capacity,
            ttl_ms,
            entries: HashMap::new(),
            generation: 0,
        }
    }

    fn fresh(&self, entry: &Entry<V>, now_ms: u64) -> bool {
        now_ms.saturating_sub(entry.inserted_ms) < self.ttl_ms
    }

    /// The value for `key` unless it is missing or expired.
    pub fn get(&self, key: &K, now_ms: u64) -> Option<V> {
        self.entries
            .get(key)
            .filter(|e| self.fresh(e, now_ms))
            .map(|e| e.value.clone())
    }

    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation)
    }

    /// Inserts unless [`invalidate`](Self::invalidate) ran since `ticket` was taken; returns
    /// whether it did.
    pub fn insert(&mut self, ticket: Ticket, key: K, value: V, now_ms: u64) -> bool {
        if ticket.0 != self.generation {
            return false;
        }
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            let ttl_ms = self.ttl_ms;
            self.entries
                .retain(|_, e| now_ms.saturating_sub(e.inserted_ms) < ttl_ms);
            if self.entries.len() >= self.capacity {
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.inserted_ms)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(
            key,
            Entry {
                value,
                inserted_ms: now_ms,
            },
        );
        true
    }

    /// Forgets `keys`, and makes every load that started before this call skip its insert.
    pub fn invalidate<'a>(&mut self, keys: impl IntoIterator<Item = &'a K>)
    where
        K: 'a,
    {
        self.generation += 1;
        for key in keys {
            self.entries.remove(key);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_beyond_capacity_keep_the_size_bounded_and_drop_the_oldest() {
        let mut c = BoundedCache::new(3, 10_000);
        for i in 0..1000u64 {
            assert!(c.insert(c.ticket(), format!("host-{i}"), i, i));
            assert!(c.len() <= 3);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&"host-999".to_string(), 1000), Some(999));
        assert_eq!(c.get(&"host-997".to_string(), 1000), Some(997));
        assert_eq!(c.get(&"host-996".to_string(), 1000), None);
    }

    #[test]
    fn expired_entries_are_not_served_and_are_evicted_first() {
        let mut c = BoundedCache::new(2, 100);
        c.insert(c.ticket(), "old", 1, 0);
        c.insert(c.ticket(), "young", 2, 50);
        assert_eq!(c.get(&"old", 99), Some(1));
        assert_eq!(c.get(&"old", 100), None, "served past its TTL");
        // At capacity at t=120: "old" has expired and goes, "young" (fresh) stays.
        c.insert(c.ticket(), "new", 3, 120);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&"young", 120), Some(2));
        assert_eq!(c.get(&"new", 120), Some(3));
    }

    #[test]
    fn replacing_a_key_does_not_evict_another() {
        let mut c = BoundedCache::new(2, 1000);
        c.insert(c.ticket(), "a", 1, 0);
        c.insert(c.ticket(), "b", 2, 1);
        c.insert(c.ticket(), "a", 3, 2);
        assert_eq!((c.get(&"a", 3), c.get(&"b", 3)), (Some(3), Some(2)));
    }

    #[test]
    fn a_load_that_started_before_an_invalidation_is_not_cached() {
        let mut c = BoundedCache::new(8, 1000);
        let before = c.ticket();
        // ...the load reads D1 while the operator's write commits and invalidates...
        c.invalidate([&"acme"]);
        assert!(!c.insert(before, "acme", "stale snapshot", 5));
        assert_eq!(c.get(&"acme", 5), None);
        assert!(c.insert(c.ticket(), "acme", "fresh snapshot", 6));
        assert_eq!(c.get(&"acme", 6), Some("fresh snapshot"));
        c.invalidate([&"acme"]);
        assert_eq!(c.get(&"acme", 7), None);
    }

    #[test]
    fn the_staleness_bound_covers_every_layer() {
        assert_eq!(SNAPSHOT_MAX_STALENESS_SECS, 300 + 60 + 30);
    }
}
