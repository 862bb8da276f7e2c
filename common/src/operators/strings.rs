//! String operators: what compiled bodies cannot do (they take numbers), done per value
//! and appended as a column the bodies then read.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Appends a boolean column: whether string column `column` equals (`Eq`), is LIKE
/// (`Like`) or contains a match of (`Regex`) any of `patterns`; NULL where the column is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Match {
    pub column: String,
    pub match_kind: MatchKind,
    pub patterns: Vec<String>,
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "match {} {} ", self.column, self.match_kind.name())?;
        match self.patterns.len() {
            n if n > 8 => write!(f, "{:?} and {} more", &self.patterns[..3], n - 3),
            _ => write!(f, "{:?}", self.patterns),
        }
    }
}

/// What a [`Match`] tests.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Equal to one of the patterns (`=`, `IN`).
    Eq,
    /// SQL `LIKE` one of the patterns (`%` any run, `_` one character).
    Like,
    /// SQL `ILIKE`: `LIKE` ignoring case.
    ILike,
    /// Contains a match of one of the patterns, regular expressions (Rust `regex` syntax).
    Regex,
}

impl MatchKind {
    pub fn name(self) -> &'static str {
        match self {
            MatchKind::Eq => "eq",
            MatchKind::Like => "like",
            MatchKind::ILike => "ilike",
            MatchKind::Regex => "regex",
        }
    }

    pub fn parse(name: &str) -> Option<MatchKind> {
        [MatchKind::Eq, MatchKind::Like, MatchKind::ILike, MatchKind::Regex]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// Appends `function(column, args...)`, a string function (see [`STRING_FUNCTIONS`]);
/// NULL where the column is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StringFunction {
    pub function: String,
    pub column: String,
    pub args: Vec<String>,
}

/// What a string function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringResult {
    Text,
    Number,
    Bool,
}

impl StringFunction {
    /// The positions (after the string) of `function`'s integer arguments; the others are
    /// text.
    pub fn integer_args(function: &str) -> &'static [usize] {
        match function {
            "substr" => &[0, 1],
            "regexp_extract" | "split_part" => &[1],
            "lpad" | "rpad" | "left" | "right" | "repeat" => &[0],
            _ => &[],
        }
    }

    /// `regexp_replace`'s pattern with its `flags` applied, and whether it replaces every
    /// match (flag `g`) rather than the first.
    pub fn regexp_replace_pattern(pattern: &str, flags: &str) -> (String, bool) {
        let all = flags.contains('g');
        let flags = flags.replace('g', "");
        match flags.is_empty() {
            true => (pattern.to_string(), all),
            false => (format!("(?{flags}){pattern}"), all),
        }
    }

    /// What `function` returns.
    pub fn result(function: &str) -> StringResult {
        match function {
            "length" | "octet_length" | "ascii" | "to_number" | "cast" | "strpos" => StringResult::Number,
            "starts_with" | "ends_with" => StringResult::Bool,
            _ => StringResult::Text,
        }
    }
}

impl fmt::Display for StringFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = std::iter::once(self.column.clone())
            .chain(self.args.iter().cloned())
            .collect();
        write!(f, "string_function {}({})", self.function, args.join(", "))
    }
}

/// The functions of [`StringFunction`] and how many arguments each takes after the string
/// (fewest, most); which are integers and what each returns:
/// [`StringFunction::integer_args`], [`StringFunction::result`]. `regexp_extract` takes a
/// regular expression and the number of the capture group to return (0: the whole
/// match); `regexp_replace` a regular expression, a replacement (`\1` names a group) and
/// flags (`g`: every match; others as the regex crate's); `to_number` returns the text
/// as the result column's type (a number, a date, a timestamp), NULL where it is not
/// one (TRY_CAST), and `cast` the same but fails there (CAST); the trims take the
/// characters to remove (a space where none is given); `translate` maps each character
/// of its first text to the one at the same place in its second (removing it where the
/// second is shorter).
pub const STRING_FUNCTIONS: [(&str, usize, usize); 26] = [
    ("to_number", 0, 0),
    ("cast", 0, 0),
    ("initcap", 0, 0),
    ("ascii", 0, 0),
    ("octet_length", 0, 0),
    ("translate", 2, 2),
    ("replace", 2, 2),
    ("strpos", 1, 1),
    ("split_part", 2, 2),
    ("starts_with", 1, 1),
    ("ends_with", 1, 1),
    ("lpad", 1, 2),
    ("rpad", 1, 2),
    ("regexp_replace", 2, 3),
    ("left", 1, 1),
    ("right", 1, 1),
    ("reverse", 0, 0),
    ("repeat", 1, 1),
    ("regexp_extract", 2, 2),
    ("substr", 1, 2),
    ("upper", 0, 0),
    ("lower", 0, 0),
    ("trim", 0, 1),
    ("ltrim", 0, 1),
    ("rtrim", 0, 1),
    ("length", 0, 0),
];

/// Appends a string column: per row, choice number `index` (an integer column) of
/// `choices`, a string literal or a string column's value; NULL where the index is NULL or
/// not a choice's number (a CASE branch that is NULL), or the chosen column is NULL.
/// Without an index, choice 0 in every row. This is how string-valued CASE, COALESCE,
/// NULLIF and literals run: a body computes the index, since bodies take numbers only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pick {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    pub choices: Vec<Choice>,
}

/// One of a [`Pick`]'s choices.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Literal(String),
    Column(String),
}

impl Choice {
    /// `"literal:TEXT"` or `"column:NAME"`, as FlowGraph's `choices` spell it.
    pub fn text(&self) -> String {
        match self {
            Choice::Literal(s) => format!("literal:{s}"),
            Choice::Column(c) => format!("column:{c}"),
        }
    }

    pub fn parse(text: &str) -> Option<Choice> {
        match text.split_once(':')? {
            ("literal", s) => Some(Choice::Literal(s.to_string())),
            ("column", c) => Some(Choice::Column(c.to_string())),
            _ => None,
        }
    }
}

impl fmt::Display for Pick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let choices: Vec<String> = self
            .choices
            .iter()
            .map(|c| match c {
                Choice::Literal(s) => format!("{s:?}"),
                Choice::Column(c) => c.clone(),
            })
            .collect();
        match &self.index {
            Some(i) => write!(f, "pick [{}][{i}]", choices.join(", ")),
            None => write!(f, "pick {}", choices.join(", ")),
        }
    }
}

/// One output row per piece of string column `column` (see [`FLAT_MAP_FUNCTIONS`]): the
/// input's other columns repeated, then the piece (the last column). Rows whose column is
/// NULL or has no pieces produce none.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FlatMap {
    pub function: String,
    pub column: String,
    pub pattern: String,
}

impl FlatMap {
    /// Checks a split or tokens pattern: a regular expression that cannot match an empty
    /// piece of text (an empty pattern, `a*`, `x?`), which would cut between every
    /// character or find an empty token everywhere.
    pub fn check_pattern(pattern: &str) -> Result<(), String> {
        let hir = regex_syntax::Parser::new()
            .parse(pattern)
            .map_err(|e| format!("bad regular expression '{pattern}': {}", last_line(&e.to_string())))?;
        match hir.properties().minimum_len() {
            Some(0) => Err(format!(
                "pattern '{pattern}' matches empty text; split and tokens need a pattern that matches at least one character"
            )),
            _ => Ok(()),
        }
    }
}

/// The last line of a multi-line message (regex errors draw the pattern above it).
fn last_line(message: &str) -> &str {
    message.lines().last().unwrap_or_default().trim()
}

impl fmt::Display for FlatMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flat_map {}({}, {:?})", self.function, self.column, self.pattern)
    }
}

/// The functions of [`FlatMap`]: `split` cuts the string at each match of the pattern
/// (empty pieces are dropped); `tokens` returns each match of the pattern.
pub const FLAT_MAP_FUNCTIONS: [&str; 2] = ["split", "tokens"];

/// Appends the concatenation of `parts` (string literals and columns: strings, or other
/// columns written as text as Arrow casts them, `42`, `1.50`, `1995-01-01`): NULL where
/// a part is NULL (SQL's `||`), or, with `skip_nulls` (SQL's `concat()`), a NULL part
/// reads as empty text and the result is never NULL. With a `separator` (SQL's
/// `concat_ws`), it goes between the parts that are not NULL (which `skip_nulls` skips).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Concat {
    pub parts: Vec<Choice>,
    pub skip_nulls: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
}

impl fmt::Display for Concat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|c| match c {
                Choice::Literal(s) => format!("{s:?}"),
                Choice::Column(c) => c.clone(),
            })
            .collect();
        let nulls = if self.skip_nulls { " skip_nulls" } else { "" };
        write!(f, "concat [{}]{nulls}", parts.join(", "))?;
        match &self.separator {
            Some(s) => write!(f, " separator {s:?}"),
            None => Ok(()),
        }
    }
}

/// Appends a boolean column: string column `left` compared with string column `right`
/// by `op`, byte by byte (as SQL engines order strings without a collation); NULL where
/// either is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Compare {
    pub left: String,
    pub op: CompareOp,
    pub right: String,
}

impl fmt::Display for Compare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "compare {} {} {}", self.left, self.op.symbol(), self.right)
    }
}

/// How a [`Compare`] compares.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub const ALL: [CompareOp; 6] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
    ];

    /// The op's name in FlowGraph attributes.
    pub fn name(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    pub fn parse(name: &str) -> Option<CompareOp> {
        CompareOp::ALL.into_iter().find(|o| o.name() == name)
    }
}
