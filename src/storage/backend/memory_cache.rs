//! [`Cache`] in memory, for native tests (expiry is not modelled: entries are only deleted).

use std::cell::RefCell;
use std::collections::HashMap;

use super::{Cache, LocalFuture};

#[derive(Default)]
pub struct MemoryCache {
    entries: RefCell<HashMap<String, String>>,
}

impl MemoryCache {
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.borrow().is_empty()
    }
}

impl Cache for MemoryCache {
    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Option<String>> {
        let value = self.entries.borrow().get(key).cloned();
        Box::pin(std::future::ready(value))
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: String,
        _ttl: u64,
    ) -> LocalFuture<'a, Result<(), String>> {
        self.entries.borrow_mut().insert(key.to_string(), value);
        Box::pin(std::future::ready(Ok(())))
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), String>> {
        self.entries.borrow_mut().remove(key);
        Box::pin(std::future::ready(Ok(())))
    }
}
