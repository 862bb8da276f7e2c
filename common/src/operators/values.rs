//! Literal rows: SQL's `VALUES`, the one row a FROM-less `SELECT` reads, and a relation
//! the optimizer proved empty.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Rows written out in the query: each cell the text of a value of its column's type
/// (`42`, `1.50`, `1995-01-01`, `true`, any string), or `None` for NULL. The rows may
/// have no columns (a FROM-less `SELECT` reads one such row).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Values {
    pub rows: Vec<Vec<Option<String>>>,
}

impl Values {
    /// The rows as FlowGraph's `rows` attribute spells them: a JSON array a row.
    pub fn row_texts(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|r| serde_json::to_string(r).expect("strings and nulls serialize"))
            .collect()
    }

    /// The rows from [`Values::row_texts`].
    pub fn from_row_texts(texts: &[String]) -> Result<Values, String> {
        let rows = texts
            .iter()
            .map(|t| {
                serde_json::from_str(t).map_err(|e| format!("row {t} is not a JSON array of strings and nulls: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Values { rows })
    }

    /// Every row has `width` cells.
    pub fn check(&self, width: usize) -> Result<(), String> {
        match self.rows.iter().position(|r| r.len() != width) {
            Some(i) => Err(format!(
                "row {} has {} values but the table has {width} columns",
                i + 1,
                self.rows[i].len()
            )),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "values ({} rows)", self.rows.len())
    }
}
