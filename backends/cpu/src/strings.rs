//! Handcrafted string operators: predicates (`flow.match`: equality with one of a list
//! of strings, SQL `LIKE`) through arrow-rs kernels, and string functions (`flow.string`:
//! substr, upper, lower, trim, length) over any Arrow string layout.

use arrow::{
    array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, Scalar, StringArray},
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

/// SQL `substr(s, start, length)` on characters, 1-based: positions before 1 count
/// toward the length but yield nothing.
fn substr(s: &str, start: i64, length: Option<i64>) -> String {
    let end = length.map(|l| start.saturating_add(l.max(0)));
    let from = start.max(1);
    let skip = (from - 1) as usize;
    match end {
        Some(end) if end <= from => String::new(),
        Some(end) => s.chars().skip(skip).take((end - from) as usize).collect(),
        None => s.chars().skip(skip).collect(),
    }
}

/// `function(column, args...)`, returned as an array of type `to`.
pub(crate) fn apply(function: &str, args: &[i64], column: &ArrayRef, to: &DataType) -> Result<ArrayRef, String> {
    let text = cast(column, &DataType::Utf8).map_err(|e| e.to_string())?;
    let text = text.as_string::<i32>();
    let out: ArrayRef = match function {
        "length" => std::sync::Arc::new(
            text.iter()
                .map(|s| s.map(|s| s.chars().count() as i64))
                .collect::<Int64Array>(),
        ),
        _ => {
            let f = |s: &str| -> String {
                match function {
                    "substr" => substr(s, args[0], args.get(1).copied()),
                    "upper" => s.to_uppercase(),
                    "lower" => s.to_lowercase(),
                    "trim" => s.trim_matches(' ').to_string(),
                    "ltrim" => s.trim_start_matches(' ').to_string(),
                    "rtrim" => s.trim_end_matches(' ').to_string(),
                    _ => s.to_string(),
                }
            };
            if !["substr", "upper", "lower", "trim", "ltrim", "rtrim"].contains(&function)
                || (function == "substr" && args.is_empty())
            {
                return Err(format!(
                    "not supported yet: string function {function} with {} arguments",
                    args.len()
                ));
            }
            std::sync::Arc::new(text.iter().map(|s| s.map(f)).collect::<StringArray>())
        }
    };
    cast(&out, to).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::substr;

    #[test]
    fn substr_counts_characters_from_one_like_sql() {
        assert_eq!(substr("13-555", 1, Some(2)), "13");
        assert_eq!(substr("héllo", 2, Some(3)), "éll");
        assert_eq!(substr("abc", 0, Some(2)), "a");
        assert_eq!(substr("abc", -1, Some(2)), "");
        assert_eq!(substr("abc", 2, None), "bc");
        assert_eq!(substr("abc", 5, Some(2)), "");
        assert_eq!(substr("abc", 2, Some(-1)), "");
    }
}
