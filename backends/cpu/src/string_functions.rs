//! String functions (`flow.string`): substr, upper, lower, trim, length, to_number,
//! regexp_extract, replace, strpos, split_part, starts_with, ends_with, lpad, rpad,
//! regexp_replace, left, right, reverse and repeat of a string column with constant
//! arguments, parsed (and regexes compiled) once per plan, over any Arrow string layout.

use crate::{
    stage::{Stream, column_index},
    strings::{appending, compile},
};
use arrow::{
    array::{Array, ArrayRef, AsArray, Int64Array, StringArray, StringBuilder},
    compute::cast,
    datatypes::{DataType, SchemaRef},
};
use regex::Regex;
use skadi_runtime::RuntimeError;

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
    /// The text as a value of the result's type (a number, a date, a timestamp); NULL
    /// where it is not one (`strict`: an error there, as SQL's CAST).
    ToNumber {
        strict: bool,
    },
    Substr(i64, Option<i64>),
    Upper,
    Lower,
    /// The characters removed from both ends, the start or the end.
    Trim(Vec<char>),
    LTrim(Vec<char>),
    RTrim(Vec<char>),
    /// Each word's first letter upper case, the rest lower (a word: letters and digits).
    InitCap,
    /// The first character's code point (0 for an empty text).
    Ascii,
    /// Bytes, not characters.
    OctetLength,
    /// Each character of the first text becomes the one at its place in the second (the
    /// first place where it repeats), or goes where the second is shorter.
    Translate(Vec<(char, Option<char>)>),
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
            ("octet_length", 0) => StringFunction::OctetLength,
            ("ascii", 0) => StringFunction::Ascii,
            ("initcap", 0) => StringFunction::InitCap,
            ("to_number", 0) => StringFunction::ToNumber { strict: false },
            ("cast", 0) => StringFunction::ToNumber { strict: true },
            ("translate", 2) => {
                let mut to = args[1].chars();
                let mut map: Vec<(char, Option<char>)> = Vec::new();
                for c in args[0].chars() {
                    let into = to.next();
                    if !map.iter().any(|(k, _)| *k == c) {
                        map.push((c, into));
                    }
                }
                StringFunction::Translate(map)
            }
            ("substr", 1) => StringFunction::Substr(int(0)?, None),
            ("substr", 2) => StringFunction::Substr(int(0)?, Some(int(1)?)),
            ("upper", 0) => StringFunction::Upper,
            ("lower", 0) => StringFunction::Lower,
            ("trim" | "ltrim" | "rtrim", 0 | 1) => {
                let set: Vec<char> = args.first().map_or(vec![' '], |a| a.chars().collect());
                match function {
                    "trim" => StringFunction::Trim(set),
                    "ltrim" => StringFunction::LTrim(set),
                    _ => StringFunction::RTrim(set),
                }
            }
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
            StringFunction::ToNumber { strict } => {
                let options = arrow::compute::CastOptions {
                    safe: !strict,
                    ..Default::default()
                };
                return arrow::compute::cast_with_options(text, to, &options).map_err(|e| e.to_string());
            }
            StringFunction::Length | StringFunction::OctetLength | StringFunction::Ascii => {
                let f = |s: &str| match self {
                    StringFunction::Length => s.chars().count() as i64,
                    StringFunction::OctetLength => s.len() as i64,
                    _ => s.chars().next().map_or(0, |c| c as i64),
                };
                std::sync::Arc::new(text.iter().map(|s| s.map(f)).collect::<Int64Array>())
            }
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
                        StringFunction::Trim(set) => out.append_value(s.trim_matches(set.as_slice())),
                        StringFunction::LTrim(set) => out.append_value(s.trim_start_matches(set.as_slice())),
                        StringFunction::RTrim(set) => out.append_value(s.trim_end_matches(set.as_slice())),
                        StringFunction::InitCap => {
                            buf.clear();
                            let mut after_word = false;
                            for c in s.chars() {
                                if after_word {
                                    buf.extend(c.to_lowercase());
                                } else {
                                    buf.extend(c.to_uppercase());
                                }
                                after_word = c.is_alphanumeric();
                            }
                            out.append_value(&buf);
                        }
                        StringFunction::Translate(map) => {
                            buf.clear();
                            for c in s.chars() {
                                match map.iter().find(|(k, _)| *k == c) {
                                    Some((_, Some(into))) => buf.push(*into),
                                    Some((_, None)) => {}
                                    None => buf.push(c),
                                }
                            }
                            out.append_value(&buf);
                        }
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
                        | StringFunction::OctetLength
                        | StringFunction::Ascii
                        | StringFunction::ToNumber { .. }
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

#[cfg(test)]
mod tests {
    use super::{pad, substr};

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

    #[test]
    fn pad_fills_or_cuts_to_the_width_in_characters() {
        assert_eq!(pad("ab", true, 5, "xy"), "xyxab");
        assert_eq!(pad("ab", false, 5, "xy"), "abxyx");
        assert_eq!(pad("héllo", true, 3, "*"), "hél");
        assert_eq!(pad("ab", true, 0, "*"), "");
        assert_eq!(pad("ab", true, -2, "*"), "");
        assert_eq!(pad("ab", true, 4, ""), "ab");
    }
}
