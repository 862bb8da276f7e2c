//! Where rows come from and how they move: sources and their physical scans, and the
//! explicit exchanges a FlowGraph may hold.

use serde::{Deserialize, Serialize};
use std::{fmt, path::PathBuf};

/// A table's files (FlowGraph's `flow.source`): `columns` of `files` in `format`
/// (`parquet`, `csv`, `text`). `prune` holds bounds every row that matters satisfies
/// (`"l_shipdate < 9131"`, from predicate pushdown), so lowering may skip row groups.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Source {
    pub table: String,
    pub format: String,
    pub files: Vec<String>,
    pub columns: Vec<String>,
    pub prune: Vec<String>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "source {} ({}, {} columns, {} files)",
            self.table,
            self.format,
            self.columns.len(),
            self.files.len()
        )
    }
}

/// A source after lowering: reads `columns` of the files; `shards[i]` is what shard i
/// reads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Scan {
    pub table: String,
    pub format: String,
    pub columns: Vec<String>,
    pub shards: Vec<Vec<FileSlice>>,
}

impl fmt::Display for Scan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units: usize = self
            .shards
            .iter()
            .flatten()
            .map(|s| s.row_groups.as_ref().map_or(1, Vec::len))
            .sum();
        write!(
            f,
            "scan {} ({}, {} columns, {units} units)",
            self.table,
            self.format,
            self.columns.len()
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileSlice {
    pub path: PathBuf,
    /// Parquet row groups to read; `None` reads the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_groups: Option<Vec<usize>>,
}

/// The columns of a source in format "text", a table of a file's lines: the file's path,
/// its file name, the line (without its line break; invalid UTF-8 replaced) and the
/// line's number from 1.
pub const TEXT_COLUMNS: [(&str, crate::ColumnType); 4] = [
    ("path", crate::ColumnType::Utf8),
    ("file", crate::ColumnType::Utf8),
    ("line", crate::ColumnType::Utf8),
    ("line_number", crate::ColumnType::Int64),
];

/// An exchange written in the FlowGraph (`flow.exchange`): `hash` on `keys`, `gather` or
/// `broadcast`. Lowering makes it an edge's partitioning.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exchange {
    pub partitioning: String,
    pub keys: Vec<String>,
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exchange {}({})", self.partitioning, super::list(&self.keys))
    }
}
