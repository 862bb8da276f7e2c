//! Handcrafted string operators: predicates (`flow.match`: equality with one of a list
//! of strings, SQL `LIKE` through arrow-rs kernels, regular expressions), string functions
//! (`flow.string`: substr, upper, lower, trim, length, regexp_extract) over any Arrow
//! string layout, and `flow.flat_map` (split, tokens).

use arrow::{
    array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, Scalar, StringArray, StringBuilder, UInt32Array},
    compute::{cast, kernels::cmp::eq, kernels::comparison::like, or, take},
    datatypes::{DataType, SchemaRef},
    record_batch::{RecordBatch, RecordBatchOptions},
};
use regex::Regex;
use skadi_common::MatchKind;

/// Patterns prepared once: cast to the column's string type, or compiled as regexes.
pub(crate) enum Patterns {
    Kernel(MatchKind, Vec<Scalar<ArrayRef>>),
    Regex(Vec<Regex>),
}

fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("bad regular expression '{pattern}': {e}"))
}

impl Patterns {
    pub fn new(kind: MatchKind, patterns: &[String], column_type: &DataType) -> Result<Patterns, String> {
        if kind == MatchKind::Regex {
            return Ok(Patterns::Regex(
                patterns.iter().map(|p| compile(p)).collect::<Result<_, _>>()?,
            ));
        }
        let scalars = patterns
            .iter()
            .map(|p| {
                let one: ArrayRef = std::sync::Arc::new(StringArray::from(vec![p.as_str()]));
                cast(&one, column_type).map(Scalar::new).map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        Ok(Patterns::Kernel(kind, scalars))
    }

    /// Per row: whether the value matches any pattern; NULL where the value is NULL.
    pub fn test(&self, column: &ArrayRef) -> Result<BooleanArray, String> {
        let (kind, scalars) = match self {
            Patterns::Regex(regexes) => {
                let text = cast(column, &DataType::Utf8).map_err(|e| e.to_string())?;
                return Ok(text
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.map(|s| regexes.iter().any(|r| r.is_match(s))))
                    .collect());
            }
            Patterns::Kernel(kind, scalars) => (kind, scalars),
        };
        let mut result: Option<BooleanArray> = None;
        for s in scalars {
            let one = match kind {
                MatchKind::Eq => eq(column, s),
                MatchKind::Like => like(column, s),
                MatchKind::Regex => unreachable!("regexes are matched above"),
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

/// A string function with its arguments parsed (and regex compiled) once.
pub(crate) enum StringFunction {
    Length,
    /// The text as a number of the result's type; NULL where it is not one.
    ToNumber,
    Substr(i64, Option<i64>),
    Upper,
    Lower,
    Trim,
    LTrim,
    RTrim,
    /// The capture group's text; NULL where the regex does not match.
    RegexpExtract(Regex, usize),
}

impl StringFunction {
    pub fn new(function: &str, args: &[String]) -> Result<StringFunction, String> {
        let int = |i: usize| -> Result<i64, String> {
            args[i]
                .parse()
                .map_err(|_| format!("{function} takes integers, not '{}'", args[i]))
        };
        Ok(match (function, args.len()) {
            ("length", 0) => StringFunction::Length,
            ("to_number", 0) => StringFunction::ToNumber,
            ("substr", 1) => StringFunction::Substr(int(0)?, None),
            ("substr", 2) => StringFunction::Substr(int(0)?, Some(int(1)?)),
            ("upper", 0) => StringFunction::Upper,
            ("lower", 0) => StringFunction::Lower,
            ("trim", 0) => StringFunction::Trim,
            ("ltrim", 0) => StringFunction::LTrim,
            ("rtrim", 0) => StringFunction::RTrim,
            ("regexp_extract", 2) => StringFunction::RegexpExtract(compile(&args[0])?, int(1)? as usize),
            _ => {
                return Err(format!(
                    "not supported yet: string function {function} with {} arguments",
                    args.len()
                ));
            }
        })
    }

    /// The function of each value of `column`, as an array of type `to`.
    pub fn apply(&self, column: &ArrayRef, to: &DataType) -> Result<ArrayRef, String> {
        let text = cast(column, &DataType::Utf8).map_err(|e| e.to_string())?;
        let text = text.as_string::<i32>();
        let out: ArrayRef = match self {
            StringFunction::ToNumber => return cast(text, to).map_err(|e| e.to_string()),
            StringFunction::Length => std::sync::Arc::new(
                text.iter()
                    .map(|s| s.map(|s| s.chars().count() as i64))
                    .collect::<Int64Array>(),
            ),
            StringFunction::RegexpExtract(regex, group) => std::sync::Arc::new(
                text.iter()
                    .map(|s| {
                        let captures = regex.captures(s?)?;
                        captures.get(*group).map(|m| m.as_str())
                    })
                    .collect::<StringArray>(),
            ),
            f => {
                // Values are appended without an allocation each where possible.
                let mut out = StringBuilder::with_capacity(text.len(), text.value_data().len());
                let mut buf = String::new();
                for s in text.iter() {
                    let Some(s) = s else {
                        out.append_null();
                        continue;
                    };
                    match f {
                        StringFunction::Upper | StringFunction::Lower if s.is_ascii() => {
                            buf.clear();
                            buf.push_str(s);
                            if matches!(f, StringFunction::Upper) {
                                buf.make_ascii_uppercase();
                            } else {
                                buf.make_ascii_lowercase();
                            }
                            out.append_value(&buf);
                        }
                        StringFunction::Upper => out.append_value(s.to_uppercase()),
                        StringFunction::Lower => out.append_value(s.to_lowercase()),
                        StringFunction::Substr(start, length) => out.append_value(substr(s, *start, *length)),
                        StringFunction::Trim => out.append_value(s.trim_matches(' ')),
                        StringFunction::LTrim => out.append_value(s.trim_start_matches(' ')),
                        StringFunction::RTrim => out.append_value(s.trim_end_matches(' ')),
                        StringFunction::Length | StringFunction::ToNumber | StringFunction::RegexpExtract(..) => {
                            unreachable!("handled above")
                        }
                    }
                }
                std::sync::Arc::new(out.finish())
            }
        };
        cast(&out, to).map_err(|e| e.to_string())
    }
}

/// `flow.flat_map`: one output row per piece of a string column.
pub(crate) struct FlatMap {
    split: bool,
    regex: Regex,
}

impl FlatMap {
    pub fn new(function: &str, pattern: &str) -> Result<FlatMap, String> {
        let split = match function {
            "split" => true,
            "tokens" => false,
            other => return Err(format!("not supported yet: flat_map function '{other}'")),
        };
        Ok(FlatMap {
            split,
            regex: compile(pattern)?,
        })
    }

    /// Rows of `batch` repeated once per non-empty piece of column `c`, without that
    /// column, the piece appended.
    pub fn apply(&self, batch: &RecordBatch, c: usize, out: &SchemaRef) -> Result<RecordBatch, String> {
        let text = cast(batch.column(c), &DataType::Utf8).map_err(|e| e.to_string())?;
        let text = text.as_string::<i32>();
        let mut rows: Vec<u32> = Vec::with_capacity(text.len() * 8);
        let mut pieces = StringBuilder::with_capacity(text.len() * 8, text.value_data().len());
        for (r, value) in text.iter().enumerate() {
            let Some(value) = value else { continue };
            let mut push = |piece: &str| {
                if !piece.is_empty() {
                    rows.push(r as u32);
                    pieces.append_value(piece);
                }
            };
            if self.split {
                self.regex.split(value).for_each(&mut push);
            } else {
                self.regex.find_iter(value).for_each(|m| push(m.as_str()));
            }
        }
        let indices = UInt32Array::from(rows);
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
        for (i, column) in batch.columns().iter().enumerate() {
            if i != c {
                columns.push(take(column, &indices, None).map_err(|e| e.to_string())?);
            }
        }
        let piece_type = out.field(out.fields().len() - 1).data_type();
        let pieces: ArrayRef = std::sync::Arc::new(pieces.finish());
        columns.push(cast(&pieces, piece_type).map_err(|e| e.to_string())?);
        let options = RecordBatchOptions::new().with_row_count(Some(indices.len()));
        RecordBatch::try_new_with_options(out.clone(), columns, &options).map_err(|e| e.to_string())
    }
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
