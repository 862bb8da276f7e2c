//! Handcrafted string predicates (`flow.match`): equality with one of a list of strings
//! (`=`, `IN`) and SQL `LIKE`, over any Arrow string layout, through arrow-rs kernels.

use arrow::{
    array::{Array, ArrayRef, BooleanArray, Scalar, StringArray},
    compute::{cast, kernels::cmp::eq, kernels::comparison::like, or},
    datatypes::DataType,
};
use skadi_common::MatchKind;

/// Patterns cast once to the column's string type.
pub(crate) struct Patterns {
    kind: MatchKind,
    scalars: Vec<Scalar<ArrayRef>>,
}

impl Patterns {
    pub fn new(kind: MatchKind, patterns: &[String], column_type: &DataType) -> Result<Patterns, String> {
        let scalars = patterns
            .iter()
            .map(|p| {
                let one: ArrayRef = std::sync::Arc::new(StringArray::from(vec![p.as_str()]));
                cast(&one, column_type).map(Scalar::new).map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        Ok(Patterns { kind, scalars })
    }

    /// Per row: whether the value matches any pattern; NULL where the value is NULL.
    pub fn test(&self, column: &ArrayRef) -> Result<BooleanArray, String> {
        let mut result: Option<BooleanArray> = None;
        for s in &self.scalars {
            let one = match self.kind {
                MatchKind::Eq => eq(column, s),
                MatchKind::Like => like(column, s),
            }
            .map_err(|e| e.to_string())?;
            result = Some(match result {
                None => one,
                Some(r) => or(&r, &one).map_err(|e| e.to_string())?,
            });
        }
        Ok(result.unwrap_or_else(|| {
            // No patterns: nothing matches; NULL stays NULL.
            BooleanArray::new(
                arrow::buffer::BooleanBuffer::new_unset(column.len()),
                column.logical_nulls(),
            )
        }))
    }
}
