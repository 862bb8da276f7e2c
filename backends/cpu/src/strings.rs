//! Handcrafted string operators: predicates (`flow.match`: equality with one of a list
//! of strings — or numbers —, SQL `LIKE` through arrow-rs kernels, regular expressions),
//! string functions
//! (`flow.string`: substr, upper, lower, trim, length, regexp_extract) over any Arrow
//! string layout, and `flow.flat_map` (split, tokens).

use crate::stage::{Stream, batch, column_index};
use arrow::{
    array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, Scalar, StringArray, StringBuilder, UInt32Array},
    compute::{CastOptions, cast, cast_with_options, kernels::cmp::eq, kernels::comparison::like, or, take},
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

/// The input with the function's result column appended.
pub(crate) fn function_stream<'a>(
    op: &skadi_common::StringFunction,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let c = column_index(in_schema, &op.column).map_err(fail)?;
    let to = out_schema.field(out_schema.fields().len() - 1).data_type().clone();
    let f = StringFunction::new(&op.function, &op.args).map_err(fail)?;
    Ok(appending(input, out_schema, fail, move |b| f.apply(b.column(c), &to)))
}

/// The input with the picked strings appended (see `skadi_common::Pick`).
pub(crate) fn pick_stream<'a>(
    op: &skadi_common::Pick,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    use skadi_common::Choice;
    let index = op
        .index
        .as_ref()
        .map(|i| column_index(in_schema, i))
        .transpose()
        .map_err(fail)?;
    // Per choice: a literal, or the position of a string column.
    let choices: Vec<Result<String, usize>> = op
        .choices
        .iter()
        .map(|c| match c {
            Choice::Literal(s) => Ok(Ok(s.clone())),
            Choice::Column(c) => column_index(in_schema, c).map(Err),
        })
        .collect::<Result<_, _>>()
        .map_err(fail)?;
    let to = out_schema.field(out_schema.fields().len() - 1).data_type().clone();
    Ok(appending(input, out_schema, fail, move |b| {
        pick(b, index, &choices, &to)
    }))
}

fn pick(
    b: &RecordBatch,
    index: Option<usize>,
    choices: &[Result<String, usize>],
    to: &DataType,
) -> Result<ArrayRef, String> {
    let as_utf8 = |a: &ArrayRef| cast(a, &DataType::Utf8).map_err(|e| e.to_string());
    let columns: Vec<Option<ArrayRef>> = choices
        .iter()
        .map(|c| c.as_ref().err().map(|&i| as_utf8(b.column(i))).transpose())
        .collect::<Result<_, _>>()?;
    let indices: Option<ArrayRef> = index
        .map(|i| cast(b.column(i), &DataType::Int64).map_err(|e| e.to_string()))
        .transpose()?;
    let mut out = arrow::array::StringBuilder::new();
    for row in 0..b.num_rows() {
        let k = match &indices {
            None => Some(0),
            Some(a) => {
                let a = a.as_primitive::<arrow::datatypes::Int64Type>();
                (!a.is_null(row)).then(|| a.value(row))
            }
        };
        let choice = k.and_then(|k| usize::try_from(k).ok()).filter(|&k| k < choices.len());
        match choice {
            None => out.append_null(),
            Some(k) => match (&choices[k], &columns[k]) {
                (Ok(literal), _) => out.append_value(literal),
                (Err(_), Some(c)) => {
                    let c = c.as_string::<i32>();
                    if c.is_null(row) {
                        out.append_null();
                    } else {
                        out.append_value(c.value(row));
                    }
                }
                (Err(_), None) => unreachable!("a column choice has its column"),
            },
        }
    }
    let picked: ArrayRef = std::sync::Arc::new(out.finish());
    cast(&picked, to).map_err(|e| e.to_string())
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

/// `s` padded with `fill` (repeated, cut to fit) to `width` characters on the left or
/// right, or cut to `width` when longer; empty for a width of 0 or less.
fn pad(s: &str, left: bool, width: i64, fill: &str) -> String {
    let width = width.max(0) as usize;
    let count = s.chars().count();
    if count >= width || fill.is_empty() {
        return s.chars().take(width).collect();
    }
    let padding: String = fill.chars().cycle().take(width - count).collect();
    if left { padding + s } else { s.to_string() + &padding }
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
    /// Every occurrence of the first text replaced by the second (none for an empty one).
    Replace(String, String),
    /// Where the text first occurs, in characters from 1; 0 where it does not.
    Strpos(String),
    /// The n-th piece (from 1; from the end when negative) cut at the delimiter; empty
    /// where there is none.
    SplitPart(String, i64),
    StartsWith(String),
    EndsWith(String),
    /// Padded with the fill (repeated) to the width in characters, on the left or right,
    /// or cut to it.
    Pad {
        left: bool,
        width: i64,
        fill: String,
    },
    /// The regex's first match (every match, when global) replaced; `$1` names groups.
    RegexpReplace(Regex, String, bool),
    /// The first n characters (all but the last -n when negative); `Right` the last.
    Left(i64),
    Right(i64),
    Reverse,
    Repeat(i64),
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
            ("replace", 2) => StringFunction::Replace(args[0].clone(), args[1].clone()),
            ("strpos", 1) => StringFunction::Strpos(args[0].clone()),
            ("split_part", 2) => match int(1)? {
                0 => return Err("split_part's field position must not be zero".into()),
                n => StringFunction::SplitPart(args[0].clone(), n),
            },
            ("starts_with", 1) => StringFunction::StartsWith(args[0].clone()),
            ("ends_with", 1) => StringFunction::EndsWith(args[0].clone()),
            ("lpad" | "rpad", 1 | 2) => StringFunction::Pad {
                left: function == "lpad",
                width: int(0)?,
                fill: args.get(1).cloned().unwrap_or_else(|| " ".into()),
            },
            ("regexp_replace", 2 | 3) => {
                let flags = args.get(2).map_or("", String::as_str);
                let (pattern, all) = skadi_common::StringFunction::regexp_replace_pattern(&args[0], flags);
                // `\1` (SQL's group reference) is the regex crate's `${1}`.
                let mut replacement = String::new();
                let mut chars = args[1].chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '\\' && chars.peek().is_some_and(char::is_ascii_digit) {
                        let mut group = String::new();
                        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                            group.push(*d);
                            chars.next();
                        }
                        replacement.push_str(&format!("${{{group}}}"));
                    } else if c == '$' {
                        replacement.push_str("$$");
                    } else {
                        replacement.push(c);
                    }
                }
                StringFunction::RegexpReplace(compile(&pattern)?, replacement, all)
            }
            ("left", 1) => StringFunction::Left(int(0)?),
            ("right", 1) => StringFunction::Right(int(0)?),
            ("reverse", 0) => StringFunction::Reverse,
            ("repeat", 1) => StringFunction::Repeat(int(0)?),
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
            StringFunction::Strpos(needle) => std::sync::Arc::new(
                text.iter()
                    .map(|s| {
                        let s = s?;
                        Some(
                            s.find(needle.as_str())
                                .map_or(0, |at| s[..at].chars().count() as i64 + 1),
                        )
                    })
                    .collect::<Int64Array>(),
            ),
            StringFunction::StartsWith(affix) | StringFunction::EndsWith(affix) => {
                let start = matches!(self, StringFunction::StartsWith(_));
                std::sync::Arc::new(
                    text.iter()
                        .map(|s| {
                            s.map(|s| {
                                if start {
                                    s.starts_with(affix.as_str())
                                } else {
                                    s.ends_with(affix.as_str())
                                }
                            })
                        })
                        .collect::<arrow::array::BooleanArray>(),
                )
            }
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
                        StringFunction::Replace(from, to) if !from.is_empty() => {
                            out.append_value(s.replace(from.as_str(), to))
                        }
                        StringFunction::Replace(..) => out.append_value(s),
                        StringFunction::SplitPart(delimiter, n) => {
                            let piece = if *n > 0 {
                                s.split(delimiter.as_str()).nth(*n as usize - 1)
                            } else {
                                s.rsplit(delimiter.as_str()).nth(n.unsigned_abs() as usize - 1)
                            };
                            out.append_value(piece.unwrap_or(""));
                        }
                        StringFunction::Pad { left, width, fill } => out.append_value(pad(s, *left, *width, fill)),
                        StringFunction::RegexpReplace(regex, replacement, true) => {
                            out.append_value(regex.replace_all(s, replacement.as_str()))
                        }
                        StringFunction::RegexpReplace(regex, replacement, false) => {
                            out.append_value(regex.replace(s, replacement.as_str()))
                        }
                        StringFunction::Left(n) | StringFunction::Right(n) => {
                            let count = s.chars().count() as i64;
                            let keep = if *n >= 0 { (*n).min(count) } else { (count + n).max(0) } as usize;
                            if matches!(f, StringFunction::Left(_)) {
                                buf.clear();
                                buf.extend(s.chars().take(keep));
                            } else {
                                buf.clear();
                                buf.extend(s.chars().skip(count as usize - keep));
                            }
                            out.append_value(&buf);
                        }
                        StringFunction::Reverse => out.append_value(s.chars().rev().collect::<String>()),
                        StringFunction::Repeat(n) => out.append_value(s.repeat((*n).max(0) as usize)),
                        StringFunction::Length
                        | StringFunction::ToNumber
                        | StringFunction::RegexpExtract(..)
                        | StringFunction::Strpos(_)
                        | StringFunction::StartsWith(_)
                        | StringFunction::EndsWith(_) => {
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
    use super::{ClassRuns, substr};

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
