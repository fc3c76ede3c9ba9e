//! Page-numbered lists for the admin API (`?page=2&limit=50`), as Pocket ID's API pages them.

use serde::Serialize;

use crate::validation::{field_error, FieldError};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// Lists that are small by nature (groups, clients) return everything when no page is asked
/// for, up to this many, so pickers show every entry without paging.
pub const EVERYTHING: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based.
    pub page: u32,
    pub limit: u32,
}

impl Page {
    pub fn parse(page: Option<&str>, limit: Option<&str>) -> Result<Self, FieldError> {
        let page = match page.filter(|p| !p.is_empty()) {
            None => 1,
            Some(p) => p
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or_else(|| field_error("page", "a page number from 1"))?,
        };
        let limit = match limit.filter(|l| !l.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(l) => l
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| field_error("limit", format!("between 1 and {MAX_LIMIT}")))?,
        };
        Ok(Self { page, limit })
    }

    /// Like [`Page::parse`], but without `page` or `limit` the whole list (up to [`EVERYTHING`]).
    pub fn parse_or_everything(
        page: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Self, FieldError> {
        let absent = |v: Option<&str>| v.is_none_or(str::is_empty);
        if absent(page) && absent(limit) {
            return Ok(Self {
                page: 1,
                limit: EVERYTHING,
            });
        }
        Self::parse(page, limit)
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.limit)
    }

    pub fn describe(&self, total_items: i64) -> Pagination {
        let limit = i64::from(self.limit);
        Pagination {
            page: self.page,
            limit: self.limit,
            total_items,
            total_pages: (total_items + limit - 1) / limit,
        }
    }
}

/// Sent beside `data` in every paged list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pagination {
    pub page: u32,
    pub limit: u32,
    pub total_items: i64,
    pub total_pages: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bounds_and_offsets() {
        let p = Page::parse(None, None).unwrap();
        assert_eq!((p.page, p.limit, p.offset()), (1, DEFAULT_LIMIT, 0));
        let p = Page::parse(Some("3"), Some("50")).unwrap();
        assert_eq!(p.offset(), 100);
        assert_eq!(p.describe(101).total_pages, 3);
        assert_eq!(p.describe(0).total_pages, 0);
        assert_eq!(Page::parse(Some("0"), None).unwrap_err().field, "page");
        assert_eq!(Page::parse(None, Some("101")).unwrap_err().field, "limit");
        assert_eq!(Page::parse(Some("x"), None).unwrap_err().field, "page");
        assert_eq!(
            Page::parse_or_everything(None, Some("")).unwrap().limit,
            EVERYTHING
        );
        assert_eq!(
            Page::parse_or_everything(Some("2"), None).unwrap().limit,
            DEFAULT_LIMIT
        );
    }
}
