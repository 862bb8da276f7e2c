//! The job-spec file format (TOML), as read: every value keeps its byte span so errors
//! point at the line and column it came from. docs/JOB_SPEC.md documents the format.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobSpec {
    #[serde(default)]
    pub job: Option<JobInfo>,
    pub input: Spanned<Input>,
    #[serde(default)]
    pub map: Vec<Spanned<MapStep>>,
    #[serde(default)]
    pub reduce: Option<Spanned<Reduce>>,
    #[serde(default)]
    pub output: Option<Spanned<Output>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobInfo {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Input {
    /// A directory (each file in it a shard) or one file.
    pub path: Spanned<String>,
    /// "text", "csv" or "parquet"; by default from the files' extension, else text.
    #[serde(default)]
    pub format: Option<Spanned<String>>,
}

/// One map step: exactly one of the step kinds, with its options.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MapStep {
    /// Cut a string column at each match of `pattern` (default: runs of whitespace).
    #[serde(default)]
    pub split: Option<Spanned<String>>,
    /// Each match of `pattern` (default: runs of letters, digits and `'`) in a column.
    #[serde(default)]
    pub tokens: Option<Spanned<String>>,
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    #[serde(default)]
    pub lowercase: Option<Spanned<String>>,
    #[serde(default)]
    pub uppercase: Option<Spanned<String>>,
    #[serde(default)]
    pub trim: Option<Spanned<String>>,
    /// Keep rows where this SQL predicate is true.
    #[serde(default)]
    pub filter: Option<Spanned<String>>,
    /// Keep rows whose column `grep` matches `regex`.
    #[serde(default)]
    pub grep: Option<Spanned<String>>,
    /// Columns computed by SQL expressions: name = "expression".
    #[serde(default)]
    pub compute: Option<Spanned<IndexMap<String, Spanned<String>>>>,
    /// Capture group `group` of `regex` in a string column; NULL where it does not match.
    #[serde(default)]
    pub extract: Option<Spanned<String>>,
    #[serde(default)]
    pub regex: Option<Spanned<String>>,
    #[serde(default)]
    pub group: Option<Spanned<i64>>,
    /// Keep only these columns, in this order.
    #[serde(default)]
    pub select: Option<Spanned<Vec<Spanned<String>>>>,
    /// The name of the column a step makes (split, tokens, extract), or the new name of
    /// the column it changes (lowercase, uppercase, trim).
    #[serde(default, rename = "as")]
    pub as_: Option<Spanned<String>>,
    /// grep: keep the rows that do *not* match.
    #[serde(default)]
    pub invert: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reduce {
    /// The columns rows are grouped (and shuffled) by.
    pub key: Spanned<Vec<Spanned<String>>>,
    /// Combine rows on each shard before the shuffle (default true; collects never do).
    #[serde(default)]
    pub combiner: Option<bool>,
    /// Output columns: name = "function(column)".
    pub values: Spanned<IndexMap<String, Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Output {
    /// Sort keys: "column", "column desc", "column asc".
    #[serde(default)]
    pub order: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub limit: Option<Spanned<i64>>,
    /// Write the result to this file (CSV, JSON lines or Parquet by its extension).
    #[serde(default)]
    pub path: Option<Spanned<String>>,
}
