//! Order and the result: sort, top-k, limit, and the sink that names the result's
//! columns.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A total order of the rows by `keys`, the first most significant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sort {
    pub keys: Vec<SortKey>,
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self.keys.iter().map(SortKey::to_string).collect();
        write!(f, "sort [{}]", keys.join(", "))
    }
}

/// The first `fetch` rows in `keys` order (SQL's `ORDER BY ... LIMIT n`): which rows
/// tie at the cut is arbitrary, as in SQL. Unlike a sort it can run on every shard and
/// keep `fetch` rows of each, so only those are gathered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TopK {
    pub keys: Vec<SortKey>,
    pub fetch: usize,
}

impl fmt::Display for TopK {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self.keys.iter().map(SortKey::to_string).collect();
        write!(f, "top_k [{}] fetch={}", keys.join(", "), self.fetch)
    }
}

/// A sort key, written `x DESC NULLS FIRST`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SortKey {
    pub column: String,
    pub descending: bool,
    pub nulls_first: bool,
}

impl SortKey {
    /// Reads a key as [`SortKey`]'s `Display` writes it.
    pub fn parse(text: &str) -> Option<SortKey> {
        let (rest, nulls_first) = match text.strip_suffix(" NULLS FIRST") {
            Some(r) => (r, true),
            None => (text.strip_suffix(" NULLS LAST")?, false),
        };
        let (column, descending) = match rest.strip_suffix(" DESC") {
            Some(c) => (c, true),
            None => (rest.strip_suffix(" ASC")?, false),
        };
        Some(SortKey {
            column: column.to_string(),
            descending,
            nulls_first,
        })
    }
}

impl fmt::Display for SortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.column,
            if self.descending { "DESC" } else { "ASC" },
            if self.nulls_first { "NULLS FIRST" } else { "NULLS LAST" }
        )
    }
}

/// Skips `skip` rows, then keeps `fetch` (all when `None`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Limit {
    pub skip: usize,
    pub fetch: Option<usize>,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fetch = self.fetch.map_or("all".into(), |n| n.to_string());
        write!(f, "limit skip={} fetch={fetch}", self.skip)
    }
}

/// The result: renames the columns to what the user asked for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sink {
    pub names: Vec<String>,
}

impl fmt::Display for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sink [{}]", super::list(&self.names))
    }
}
