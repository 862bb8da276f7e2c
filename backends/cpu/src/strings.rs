//! Handcrafted string operators: predicates (`flow.match`: equality with one of a list
//! of strings — or numbers —, SQL `LIKE` through arrow-rs kernels, regular expressions)
//! and `flow.flat_map` (split, tokens), over any Arrow string layout. String functions
//! (`flow.string`) are in string_functions.rs; operators over several values in
//! combine.rs.

use crate::stage::{Stream, batch, column_index};
use arrow::{
    array::{Array, ArrayRef, AsArray, BooleanArray, Scalar, StringArray, StringBuilder, UInt32Array},
    compute::{
        CastOptions, cast, cast_with_options,
        kernels::cmp::eq,
        kernels::comparison::{ilike, like},
        or, take,
    },
    datatypes::{DataType, SchemaRef},
    record_batch::{RecordBatch, RecordBatchOptions},
    row::{RowConverter, SortField},
};
use regex::Regex;
use skadi_common::MatchKind;
use skadi_runtime::RuntimeError;
use std::collections::HashSet;
use std::sync::Arc;

/// The input with the match's boolean column appended.
pub(crate) fn match_stream<'a>(
    op: &skadi_common::Match,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let c = column_index(in_schema, &op.column).map_err(fail)?;
    let patterns = Patterns::new(op.match_kind, &op.patterns, in_schema.field(c).data_type()).map_err(fail)?;
    Ok(appending(input, out_schema, fail, move |b| {
        Ok(Arc::new(patterns.test(b.column(c))?) as ArrayRef)
    }))
}

/// Each batch of `input` with the column `value` computes from it appended.
pub(crate) fn appending<'a>(
    input: Stream<'a>,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
    value: impl Fn(&RecordBatch) -> Result<ArrayRef, String> + 'a,
) -> Stream<'a> {
    Box::new(input.map(move |b| {
        let b = b?;
        let mut columns = b.columns().to_vec();
        columns.push(value(&b).map_err(fail)?);
        batch(&out_schema, columns, b.num_rows()).map_err(fail)
    }))
}

/// A row per piece of each input row's string.
pub(crate) fn flat_map_stream<'a>(
    op: &skadi_common::FlatMap,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let c = column_index(in_schema, &op.column).map_err(fail)?;
    let flat_map = FlatMap::new(&op.function, &op.pattern).map_err(fail)?;
    Ok(Box::new(
        input.map(move |b| flat_map.apply(&b?, c, &out_schema).map_err(fail)),
    ))
}

/// Patterns prepared once: cast to the column's type (a string type, or a number's for
/// `= ` / `IN` on numbers), compiled as regexes, or — for more than a few values to
/// equal — a hash set of their row encodings, so a long `IN` list costs one lookup a row.
pub(crate) enum Patterns {
    Kernel(MatchKind, Vec<Scalar<ArrayRef>>),
    Regex(Vec<Regex>),
    Set(RowConverter, HashSet<Box<[u8]>>),
}

/// Values to equal above which a hash set beats one comparison kernel per value.
const SET_ABOVE: usize = 8;

/// The patterns as values of `column_type`; one that is not such a value is an error
/// (never a NULL that matches nothing).
fn typed(patterns: &[String], column_type: &DataType) -> Result<ArrayRef, String> {
    let text: ArrayRef = std::sync::Arc::new(StringArray::from_iter_values(patterns));
    let strict = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    cast_with_options(&text, column_type, &strict).map_err(|e| format!("a pattern is not a {column_type}: {e}"))
}

pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("bad regular expression '{pattern}': {e}"))
}

impl Patterns {
    pub fn new(kind: MatchKind, patterns: &[String], column_type: &DataType) -> Result<Patterns, String> {
        if kind == MatchKind::Regex {
            return Ok(Patterns::Regex(
                patterns.iter().map(|p| compile(p)).collect::<Result<_, _>>()?,
            ));
        }
        let values = typed(patterns, column_type)?;
        if kind == MatchKind::Eq && patterns.len() > SET_ABOVE {
            let converter = RowConverter::new(vec![SortField::new(column_type.clone())]).map_err(|e| e.to_string())?;
            let rows = converter.convert_columns(&[values]).map_err(|e| e.to_string())?;
            let keys = rows.iter().map(|r| Box::from(r.as_ref())).collect();
            return Ok(Patterns::Set(converter, keys));
        }
        let scalars = (0..values.len()).map(|i| Scalar::new(values.slice(i, 1))).collect();
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
            Patterns::Set(converter, keys) => {
                let rows = converter
                    .convert_columns(std::slice::from_ref(column))
                    .map_err(|e| e.to_string())?;
                return Ok((0..column.len())
                    .map(|r| column.is_valid(r).then(|| keys.contains(rows.row(r).as_ref())))
                    .collect());
            }
            Patterns::Kernel(kind, scalars) => (kind, scalars),
        };
        let mut result: Option<BooleanArray> = None;
        for s in scalars {
            let one = match kind {
                MatchKind::Eq => eq(column, s),
                MatchKind::Like => like(column, s),
                MatchKind::ILike => ilike(column, s),
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

/// A pattern that is one character class repeated (`[\p{L}\p{N}']+`, `\s+`, `[^,]+`):
/// its matches are the maximal runs of the class's characters, so they are found with a
/// table lookup per ASCII byte (a range search per other character) instead of the
/// regex engine — the pattern, known when the plan is compiled, specializes the scanner.
struct ClassRuns {
    ascii: [bool; 128],
    /// The class's non-ASCII ranges, sorted, inclusive.
    wide: Vec<(char, char)>,
}

impl ClassRuns {
    /// `None` when `pattern` is anything other than a greedy `CLASS+` over characters.
    fn parse(pattern: &str) -> Option<ClassRuns> {
        use regex_syntax::hir::{Class, HirKind};
        let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
        let HirKind::Repetition(rep) = hir.kind() else {
            return None;
        };
        if rep.min != 1 || rep.max.is_some() || !rep.greedy {
            return None;
        }
        let HirKind::Class(Class::Unicode(class)) = rep.sub.kind() else {
            return None;
        };
        let mut ascii = [false; 128];
        let mut wide = Vec::new();
        for r in class.ranges() {
            for c in r.start()..=r.end().min('\u{7f}') {
                ascii[c as usize] = true;
            }
            if r.end() >= '\u{80}' {
                wide.push((r.start().max('\u{80}'), r.end()));
            }
        }
        Some(ClassRuns { ascii, wide })
    }

    fn contains_wide(&self, c: char) -> bool {
        self.wide
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    /// Calls `f` on each maximal run of characters in the class (`inside`) or not in it.
    fn runs<'a>(&self, s: &'a str, inside: bool, mut f: impl FnMut(&'a str)) {
        let bytes = s.as_bytes();
        let mut start = None;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let (is, len) = if b < 0x80 {
                (self.ascii[b as usize], 1)
            } else {
                let c = s[i..].chars().next().expect("i is at a character boundary");
                (self.contains_wide(c), c.len_utf8())
            };
            if is == inside {
                start.get_or_insert(i);
            } else if let Some(from) = start.take() {
                f(&s[from..i]);
            }
            i += len;
        }
        if let Some(from) = start {
            f(&s[from..]);
        }
    }
}

/// `flow.flat_map`: one output row per piece of a string column.
pub(crate) struct FlatMap {
    split: bool,
    regex: Regex,
    /// Set when the pattern is a repeated character class.
    runs: Option<ClassRuns>,
}

impl FlatMap {
    pub fn new(function: &str, pattern: &str) -> Result<FlatMap, String> {
        let split = match function {
            "split" => true,
            "tokens" => false,
            other => return Err(format!("not supported yet: flat_map function '{other}'")),
        };
        skadi_common::FlatMap::check_pattern(pattern)?;
        Ok(FlatMap {
            split,
            regex: compile(pattern)?,
            runs: ClassRuns::parse(pattern),
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
            match (&self.runs, self.split) {
                // Split pieces are the runs outside the class (empty ones are dropped).
                (Some(runs), split) => runs.runs(value, !split, &mut push),
                (None, true) => self.regex.split(value).for_each(&mut push),
                (None, false) => self.regex.find_iter(value).for_each(|m| push(m.as_str())),
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
    use super::ClassRuns;

    /// The specialized scanner finds what the regex finds, for tokens and for split.
    #[test]
    fn class_runs_match_the_regex() {
        let texts = [
            "Hello, world! It's 2026 — naïve café ΣΊΣΥΦΟΣ 東京 x",
            "  leading and trailing  ",
            "",
            "a,b,,c,",
            "tab\tand\u{2003}em space\nnew line",
            "😀 emoji😀mixed",
        ];
        for pattern in [
            r"[\p{L}\p{N}']+",
            r"\s+",
            r"[^,]+",
            r"\w+",
            r"[a-z]+",
            r"(?i)[a-z]+",
            r"\S+",
        ] {
            let runs = ClassRuns::parse(pattern).unwrap_or_else(|| panic!("{pattern} is a class run"));
            let regex = regex::Regex::new(pattern).unwrap();
            for t in texts {
                let mut tokens = Vec::new();
                runs.runs(t, true, |p| tokens.push(p));
                let want: Vec<&str> = regex.find_iter(t).map(|m| m.as_str()).collect();
                assert_eq!(tokens, want, "{pattern} tokens of {t:?}");
                let mut pieces = Vec::new();
                runs.runs(t, false, |p| pieces.push(p));
                let want: Vec<&str> = regex.split(t).filter(|p| !p.is_empty()).collect();
                assert_eq!(pieces, want, "{pattern} split of {t:?}");
            }
        }
        for other in [r"a+", r"[a-z]+?", r"[a-z]*", r"\d{2,}", r"(?-u)[a-z]+", r"ab|cd"] {
            assert!(ClassRuns::parse(other).is_none(), "{other}");
        }
    }
}
