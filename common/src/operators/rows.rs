//! Row-wise operators: each output row comes from one input row.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an output column of a map or pipeline comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum ProjectExpr {
    /// The input column of that name, unchanged.
    Column(String),
    /// Result number N of the body.
    Body(usize),
}

impl ProjectExpr {
    /// `"$N"` is body result N; anything else names an input column (FlowGraph's `exprs`).
    pub fn parse(text: String) -> ProjectExpr {
        match text.strip_prefix('$').map(str::parse::<usize>) {
            Some(Ok(n)) => ProjectExpr::Body(n),
            _ => ProjectExpr::Column(text),
        }
    }
}

impl fmt::Display for ProjectExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectExpr::Body(n) => write!(f, "${n}"),
            ProjectExpr::Column(c) => f.write_str(c),
        }
    }
}

/// `computed, passed through` counts of a list of output expressions.
fn counts(exprs: &[ProjectExpr]) -> (usize, usize) {
    let computed = exprs.iter().filter(|e| matches!(e, ProjectExpr::Body(_))).count();
    (computed, exprs.len() - computed)
}

/// Keeps the rows for which `body(args...)` is true (NULL drops the row).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Filter {
    pub body: String,
    pub args: Vec<String>,
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter @{}({})", self.body, super::list(&self.args))
    }
}

/// Keeps, renames (by the result schema) and reorders input columns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Project {
    pub columns: Vec<String>,
}

impl fmt::Display for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "project {} columns", self.columns.len())
    }
}

/// Builds each output column from an input column or a result of `body(args...)`; a
/// result is NULL where any argument is (bodies are strict).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Map {
    pub body: String,
    pub args: Vec<String>,
    pub exprs: Vec<ProjectExpr>,
}

impl fmt::Display for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (computed, passed) = counts(&self.exprs);
        write!(
            f,
            "map @{}({}) -> {computed} computed, {passed} passed through",
            self.body,
            super::list(&self.args)
        )
    }
}

/// A fused row-wise step (what `fuse` makes of a chain of filters, maps and projects):
/// `body(args...)` once per row; when `keep` is set, rows whose result `keep` is false or
/// NULL are dropped; output column i is `exprs[i]`. Result r is NULL where any of the args
/// `strict[r]` (positions in `args`) is.
///
/// Three-valued logic (SQL's AND, OR, IS NULL, CASE, COALESCE over nullable columns): the
/// body also takes, after `args`, one i1 per entry of `validity` (positions in `args`),
/// true where that arg is not NULL; and each pair `(r, v)` of `result_validity` makes
/// result r NULL where result v (an i1) is false. Such a body computes its NULLs itself,
/// so it is strict in nothing it reads that way.
///
/// A body whose arithmetic can fail on some rows (a division by zero, an integer
/// overflow) also returns an i1 that is true on such a row (`fault`): the pipeline then
/// fails with `fault.what` rather than yield a wrong value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pipeline {
    pub body: String,
    pub args: Vec<String>,
    pub exprs: Vec<ProjectExpr>,
    pub keep: Option<usize>,
    pub strict: Vec<Vec<usize>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validity: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub result_validity: Vec<(usize, usize)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
}

/// A body result true on the rows where the body's arithmetic failed, and what failed
/// (the expressions that can, for the error).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fault {
    pub result: usize,
    pub what: String,
    /// The result is true only on rows the pipeline keeps (a fused chain's faults
    /// after its filters), so rows it drops need not be computed to find faults.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kept: bool,
}

impl Pipeline {
    /// Whether the body computes NULLs itself (see the type's doc).
    pub fn three_valued(&self) -> bool {
        !self.validity.is_empty() || !self.result_validity.is_empty()
    }

    /// Whether the body computes NULLs itself, or faults on rows it drops: such a
    /// pipeline is not fused with others, nor folded into an aggregate (a fused body
    /// has no args' validity, and a fold computes kept rows only).
    pub fn self_contained(&self) -> bool {
        self.three_valued() || self.fault.as_ref().is_some_and(|f| self.keep.is_some() && !f.kept)
    }
}

impl fmt::Display for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (computed, passed) = counts(&self.exprs);
        write!(f, "pipeline @{}({})", self.body, super::list(&self.args))?;
        if let Some(k) = self.keep {
            write!(f, " keeps rows where ${k}")?;
        }
        if self.three_valued() {
            write!(f, " (three-valued)")?;
        }
        if let Some(fault) = &self.fault {
            write!(f, " (may fail: {})", fault.what)?;
        }
        write!(f, " -> {computed} computed, {passed} passed through")
    }
}
