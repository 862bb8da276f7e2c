//! Set operations: a union of tables with the same columns.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The rows of every input, one input after another (SQL's `UNION ALL`; `UNION` is an
/// aggregate over it). The inputs have the result's column types, in order; the result
/// names the columns, and a column is nullable where any input's is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Union {}

impl fmt::Display for Union {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("union all")
    }
}
