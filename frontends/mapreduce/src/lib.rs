//! The MapReduce frontend: a job spec (TOML, docs/JOB_SPEC.md) → FlowGraph text.
//!
//! A job reads a directory of text, CSV or Parquet files (each file a shard), runs its
//! map steps row by row, groups by a key and reduces, then orders and limits. Map steps
//! become the same FlowGraph ops SQL uses (`flat_map` for split/tokens, `string` for
//! lowercase and regex extraction, `match` + `filter` for grep; `filter` and `compute`
//! steps are SQL expressions compiled by the SQL frontend's step API), the reduce is a
//! `flow.aggregate` (lowering adds the shuffle, and the combiner unless the job or a
//! collect says no), so passes, lowering and backends treat a job like any query.
//!
//! Errors name the spec file, line and column.

pub mod spec;

use regex::Regex;
use skadi_common::{AggregateCall, AggregateFunction, Column, ColumnType, MatchKind, SortKey, TEXT_COLUMNS};
use skadi_flowgraph::{FlowGraphBuilder, SourceLoc, TableValue};
use skadi_sql::step::{self, Snippet};
use spec::JobSpec;
pub use spec::{MapStep, Reduce};
use std::{
    ops::Range,
    path::{Path, PathBuf},
};
use toml::Spanned;

/// A job spec that cannot be compiled, and where in the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}:{line}:{column}: {message}")]
pub struct JobError {
    pub source_name: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A compiled job.
#[derive(Debug, Clone)]
pub struct Job {
    /// The FlowGraph module's text.
    pub flowgraph: String,
    /// Where the job's `[output] path` asks the result to be written, if anywhere.
    pub output: Option<PathBuf>,
}

/// Whether `text` looks like a job spec (a TOML file with an `[input]` table) rather
/// than a pipeline or another kind of file.
pub fn is_job_spec(text: &str) -> bool {
    text.lines().any(|l| {
        let code = l.split('#').next().unwrap_or_default().trim();
        code.strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .is_some_and(|t| t.trim() == "input")
    })
}

/// The default patterns of `split` (separators) and `tokens` (the tokens).
pub const DEFAULT_SPLIT: &str = r"\s+";
pub const DEFAULT_TOKENS: &str = r"[\p{L}\p{N}']+";

/// Compiles a job spec. `source_name` names the file in locations and errors; relative
/// input paths are resolved against the current directory.
pub fn compile_job(text: &str, source_name: &str) -> Result<Job, JobError> {
    let at = Positions { text, source_name };
    let spec: JobSpec = toml::from_str(text).map_err(|e| at.error(e.span(), e.message().trim().to_string()))?;
    let mut g = FlowGraphBuilder::new();
    let mut c = Compiler {
        at,
        g: &mut g,
        fresh: 0,
    };
    let input = c.input(&spec)?;
    let output_spec = spec.output.as_ref().map(Spanned::get_ref);
    let steps = Steps {
        map: &spec.map,
        reduce: spec.reduce.as_ref(),
        order: output_spec.and_then(|o| o.order.as_ref()),
        limit: output_spec.and_then(|o| o.limit.as_ref()),
    };
    let current = c.steps(input, &steps)?;
    let mut output = None;
    if let Some(path) = output_spec.and_then(|o| o.path.as_ref()) {
        let p = PathBuf::from(path.get_ref());
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if !["csv", "json", "jsonl", "parquet"].contains(&ext) {
            return Err(c.at.error(
                Some(path.span()),
                format!(
                    "output file '{}' must end in .csv, .json, .jsonl or .parquet",
                    path.get_ref()
                ),
            ));
        }
        output = Some(p);
    }
    let names: Vec<String> = c.g.schema(current).iter().map(|col| col.name.clone()).collect();
    let loc = c.at.loc(0..0);
    c.g.sink(current, &names, &loc);
    Ok(Job {
        flowgraph: g.finish(),
        output,
    })
}

/// Byte offsets of a spec file → line and column, for errors and locations. Other
/// TOML-based frontends (pipelines) use it too.
#[derive(Clone, Copy)]
pub struct Positions<'a> {
    pub text: &'a str,
    pub source_name: &'a str,
}

impl Positions<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[start..].chars().count() + 1)
    }

    pub fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> JobError {
        let (line, column) = self.line_col(span.map_or(0, |s| s.start));
        JobError {
            source_name: self.source_name.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    pub fn loc(&self, span: Range<usize>) -> SourceLoc {
        let (line, column) = self.line_col(span.start);
        SourceLoc {
            file: self.source_name.to_string(),
            line: line as u32,
            column: column as u32,
        }
    }

    /// Where the characters of a TOML string value start (past its opening quotes and,
    /// for multi-line strings, a line break right after them).
    pub fn snippet<'s>(&self, value: &'s Spanned<String>) -> Snippet<'s> {
        let raw = &self.text[value.span()];
        let mut start = value.span().start;
        if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            start += 3;
            if self.text[start..].starts_with("\r\n") {
                start += 2;
            } else if self.text[start..].starts_with('\n') {
                start += 1;
            }
        } else if raw.starts_with('"') || raw.starts_with('\'') {
            start += 1;
        }
        let (line, column) = self.line_col(start);
        Snippet {
            text: value.get_ref(),
            line: line as u32,
            column: column as u32,
        }
    }
}

/// The map steps, reduce and order/limit of a job: what runs after its input, whoever
/// made that input (a job's files, or an earlier step of a pipeline).
pub struct Steps<'s> {
    pub map: &'s [Spanned<MapStep>],
    pub reduce: Option<&'s Spanned<Reduce>>,
    /// Sort keys: "column", "column asc", "column desc".
    pub order: Option<&'s Spanned<Vec<Spanned<String>>>>,
    pub limit: Option<&'s Spanned<i64>>,
}

/// Adds `steps` over `input` to `g`: how a pipeline's MapReduce step compiles, on the
/// same ops and checks as a job.
pub fn compile_steps(
    g: &mut FlowGraphBuilder,
    at: Positions<'_>,
    input: TableValue,
    steps: &Steps<'_>,
) -> Result<TableValue, JobError> {
    Compiler { at, g, fresh: 0 }.steps(input, steps)
}

struct Compiler<'a, 'g> {
    at: Positions<'a>,
    g: &'g mut FlowGraphBuilder,
    fresh: usize,
}

/// The step kinds of a map step, by field.
const STEP_KINDS: [&str; 10] = [
    "split",
    "tokens",
    "lowercase",
    "uppercase",
    "trim",
    "filter",
    "grep",
    "compute",
    "extract",
    "select",
];

impl Compiler<'_, '_> {
    fn steps(&mut self, input: TableValue, steps: &Steps<'_>) -> Result<TableValue, JobError> {
        let mut current = input;
        for s in steps.map {
            current = self.map_step(current, s)?;
        }
        if let Some(r) = steps.reduce {
            current = self.reduce(current, r)?;
        }
        if let Some(order) = steps.order {
            let loc = self.at.loc(order.span());
            let mut keys = Vec::new();
            for k in order.get_ref() {
                let mut words = k.get_ref().split_whitespace();
                let name = words.next().unwrap_or_default();
                let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
                    None | Some("asc") => false,
                    Some("desc") => true,
                    Some(other) => {
                        return Err(self
                            .at
                            .error(Some(k.span()), format!("sort direction '{other}' is not asc or desc")));
                    }
                };
                if words.next().is_some() {
                    return Err(self.at.error(
                        Some(k.span()),
                        "a sort key is \"column\", \"column asc\" or \"column desc\"",
                    ));
                }
                self.column(current, name, k.span())?;
                keys.push(SortKey {
                    column: name.to_string(),
                    descending,
                    nulls_first: descending,
                });
            }
            current = self.g.sort(current, &keys, &loc);
        }
        if let Some(limit) = steps.limit {
            let n = usize::try_from(*limit.get_ref())
                .map_err(|_| self.at.error(Some(limit.span()), "limit must be 0 or more"))?;
            current = self.g.limit(current, 0, Some(n), &self.at.loc(limit.span()));
        }
        Ok(current)
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("__{prefix}{}", self.fresh)
    }

    fn column(&self, input: TableValue, name: &str, span: Range<usize>) -> Result<Column, JobError> {
        let schema = self.g.schema(input);
        schema.iter().find(|c| c.name == name).cloned().ok_or_else(|| {
            let have: Vec<&str> = schema.iter().map(|c| c.name.as_str()).collect();
            self.at.error(
                Some(span),
                format!("no column '{name}' here (columns: {})", have.join(", ")),
            )
        })
    }

    fn string_column(&self, input: TableValue, name: &Spanned<String>) -> Result<Column, JobError> {
        let c = self.column(input, name.get_ref(), name.span())?;
        if !c.ty.is_string() {
            return Err(self.at.error(
                Some(name.span()),
                format!("column '{}' is {}, not a string", c.name, c.ty),
            ));
        }
        Ok(c)
    }

    fn regex(&self, pattern: &Spanned<String>) -> Result<Regex, JobError> {
        Regex::new(pattern.get_ref()).map_err(|e| {
            let detail = e.to_string();
            let last = detail.lines().last().unwrap_or_default().trim().to_string();
            self.at.error(
                Some(pattern.span()),
                format!("bad regular expression '{}': {last}", pattern.get_ref()),
            )
        })
    }

    fn input(&mut self, spec: &JobSpec) -> Result<TableValue, JobError> {
        let input = spec.input.get_ref();
        let path_span = input.path.span();
        let path = Path::new(input.path.get_ref());
        let err = |m: String| self.at.error(Some(path_span.clone()), m);
        if !path.exists() {
            return Err(err(format!("input '{}' does not exist", path.display())));
        }
        let absolute = path
            .canonicalize()
            .map_err(|e| err(format!("input '{}': {e}", path.display())))?;
        let files: Vec<PathBuf> = if absolute.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&absolute)
                .map_err(|e| err(format!("input '{}': {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    !p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
                })
                .collect();
            files.sort();
            files
        } else {
            vec![absolute.clone()]
        };
        if files.is_empty() {
            return Err(err(format!("input directory '{}' holds no files", path.display())));
        }
        let ext_is = |e: &str| files.iter().all(|f| f.extension().and_then(|x| x.to_str()) == Some(e));
        let format = match &input.format {
            Some(f) => match f.get_ref().as_str() {
                "text" | "csv" | "parquet" => f.get_ref().clone(),
                other => {
                    return Err(self.at.error(
                        Some(f.span()),
                        format!("input format '{other}' is not text, csv or parquet"),
                    ));
                }
            },
            None if ext_is("parquet") => "parquet".into(),
            None if ext_is("csv") => "csv".into(),
            None => "text".into(),
        };
        let schema: Vec<Column> = match format.as_str() {
            "text" => TEXT_COLUMNS
                .iter()
                .map(|(name, ty)| Column::new(*name, *ty, false))
                .collect(),
            other => {
                let file_format = if other == "csv" {
                    skadi_catalog::FileFormat::Csv
                } else {
                    skadi_catalog::FileFormat::Parquet
                };
                let arrow = skadi_catalog::read_schema(file_format, &files[0]).map_err(|e| err(e.to_string()))?;
                arrow
                    .fields()
                    .iter()
                    .map(|f| {
                        ColumnType::from_arrow(f.data_type())
                            .map(|ty| Column::new(f.name(), ty, f.is_nullable()))
                            .map_err(|e| err(format!("{}: column '{}': {e}", files[0].display(), f.name())))
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        let name = spec
            .job
            .as_ref()
            .and_then(|j| j.name.clone())
            .or_else(|| absolute.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "input".into());
        let file_columns: Vec<String> = schema.iter().map(|c| c.name.clone()).collect();
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let loc = self.at.loc(spec.input.span());
        Ok(self.g.source(&name, &format, &files, &file_columns, schema, &loc))
    }

    fn map_step(&mut self, input: TableValue, step: &Spanned<MapStep>) -> Result<TableValue, JobError> {
        let s = step.get_ref();
        let span = step.span();
        let loc = self.at.loc(span.clone());
        let given: Vec<&str> = STEP_KINDS
            .into_iter()
            .filter(|k| match *k {
                "split" => s.split.is_some(),
                "tokens" => s.tokens.is_some(),
                "lowercase" => s.lowercase.is_some(),
                "uppercase" => s.uppercase.is_some(),
                "trim" => s.trim.is_some(),
                "filter" => s.filter.is_some(),
                "grep" => s.grep.is_some(),
                "compute" => s.compute.is_some(),
                "extract" => s.extract.is_some(),
                _ => s.select.is_some(),
            })
            .collect();
        let kind = match given.as_slice() {
            [one] => *one,
            [] => {
                return Err(self.at.error(
                    Some(span),
                    format!("a map step needs one of: {}", STEP_KINDS.join(", ")),
                ));
            }
            [a, b, ..] => {
                return Err(self.at.error(
                    Some(span),
                    format!("a map step does one thing; this one has both '{a}' and '{b}' (write two [[map]] steps)"),
                ));
            }
        };
        // Options that only some kinds take.
        let misplaced = |name: &str, field: Option<Range<usize>>, kinds: &[&str]| -> Result<(), JobError> {
            match field {
                Some(sp) if !kinds.contains(&kind) => Err(self.at.error(
                    Some(sp),
                    format!(
                        "'{name}' does not apply to a '{kind}' step (only to {})",
                        kinds.join(", ")
                    ),
                )),
                _ => Ok(()),
            }
        };
        misplaced("pattern", s.pattern.as_ref().map(Spanned::span), &["split", "tokens"])?;
        misplaced("regex", s.regex.as_ref().map(Spanned::span), &["extract", "grep"])?;
        misplaced("group", s.group.as_ref().map(Spanned::span), &["extract"])?;
        misplaced("invert", s.invert.map(|_| span.clone()), &["grep"])?;
        misplaced(
            "as",
            s.as_.as_ref().map(Spanned::span),
            &["split", "tokens", "extract", "lowercase", "uppercase", "trim"],
        )?;
        let new_name = |default: &str| s.as_.as_ref().map_or(default.to_string(), |a| a.get_ref().clone());
        match kind {
            "split" | "tokens" => {
                let column = s.split.as_ref().or(s.tokens.as_ref()).expect("the kind is given");
                self.string_column(input, column)?;
                let default = if kind == "split" { DEFAULT_SPLIT } else { DEFAULT_TOKENS };
                let pattern = s.pattern.as_ref().map_or(default.to_string(), |p| p.get_ref().clone());
                if let Some(p) = &s.pattern {
                    self.regex(p)?;
                }
                let out = new_name(column.get_ref());
                self.check_new(input, &out, column.get_ref(), s.as_.as_ref(), span)?;
                Ok(self.g.flat_map(input, kind, column.get_ref(), &pattern, &out, &loc))
            }
            "lowercase" | "uppercase" | "trim" => {
                let column = s
                    .lowercase
                    .as_ref()
                    .or(s.uppercase.as_ref())
                    .or(s.trim.as_ref())
                    .expect("the kind is given");
                let from = self.string_column(input, column)?;
                let function = match kind {
                    "lowercase" => "lower",
                    "uppercase" => "upper",
                    _ => "trim",
                };
                let out = new_name(column.get_ref());
                self.check_new(input, &out, column.get_ref(), s.as_.as_ref(), span)?;
                let tmp = Column::new(self.fresh("str"), ColumnType::Utf8, from.nullable);
                let appended = self.g.string_function(input, function, &from.name, &[], tmp, &loc);
                Ok(self.place(appended, &from.name, &out, &loc))
            }
            "extract" => {
                let column = s.extract.as_ref().expect("the kind is given");
                let from = self.string_column(input, column)?;
                let Some(regex) = &s.regex else {
                    return Err(self.at.error(Some(span), "an extract step needs 'regex'"));
                };
                let compiled = self.regex(regex)?;
                let groups = compiled.captures_len() - 1;
                let group = match &s.group {
                    Some(g) => {
                        let n = *g.get_ref();
                        if n < 0 || n as usize > groups {
                            return Err(self.at.error(
                                Some(g.span()),
                                format!("group {n} does not exist: the regex has {groups} capture group(s)"),
                            ));
                        }
                        n as usize
                    }
                    None => usize::from(groups > 0),
                };
                let Some(out) = &s.as_ else {
                    return Err(self.at.error(
                        Some(span),
                        "an extract step needs 'as', the name of the column it makes",
                    ));
                };
                self.check_new(input, out.get_ref(), "", Some(out), span)?;
                let col = Column::new(out.get_ref(), ColumnType::Utf8, true);
                let args = [regex.get_ref().clone(), group.to_string()];
                Ok(self
                    .g
                    .string_function(input, "regexp_extract", &from.name, &args, col, &loc))
            }
            "grep" => {
                let column = s.grep.as_ref().expect("the kind is given");
                self.string_column(input, column)?;
                let Some(regex) = &s.regex else {
                    return Err(self.at.error(Some(span), "a grep step needs 'regex'"));
                };
                self.regex(regex)?;
                let width = self.g.schema(input).len();
                let flag = self.fresh("grep");
                let matched = self.g.string_match(
                    input,
                    column.get_ref(),
                    MatchKind::Regex,
                    std::slice::from_ref(regex.get_ref()),
                    &flag,
                    &loc,
                );
                let mut b = self.g.body("grep", vec!["i1".into()], &loc);
                let mut keep = b.param(0);
                if s.invert == Some(true) {
                    let one = b.const_int(1, "i1");
                    keep = b.binary("arith.xori", &keep, &one);
                }
                let body = b.finish(&[keep]);
                let filtered = self.g.filter(matched, &body, &[flag], &loc);
                let kept: Vec<Column> = self.g.schema(filtered)[..width].to_vec();
                let names: Vec<String> = kept.iter().map(|c| c.name.clone()).collect();
                Ok(self.g.project(filtered, &names, kept, &loc))
            }
            "filter" => {
                let predicate = s.filter.as_ref().expect("the kind is given");
                let snippet = self.at.snippet(predicate);
                step::filter(self.g, input, snippet, self.at.source_name).map_err(|e| self.sql_error(e, snippet))
            }
            "compute" => {
                let columns = s.compute.as_ref().expect("the kind is given");
                if columns.get_ref().is_empty() {
                    return Err(self.at.error(Some(columns.span()), "compute lists no columns"));
                }
                let items: Vec<(String, Snippet<'_>)> = columns
                    .get_ref()
                    .iter()
                    .map(|(name, e)| (name.clone(), self.at.snippet(e)))
                    .collect();
                let first = items[0].1;
                step::compute(self.g, input, &items, self.at.source_name).map_err(|e| self.sql_error(e, first))
            }
            _ => {
                let columns = s.select.as_ref().expect("the kind is given");
                let mut picked = Vec::new();
                for c in columns.get_ref() {
                    picked.push(self.column(input, c.get_ref(), c.span())?);
                }
                if picked.is_empty() {
                    return Err(self.at.error(Some(columns.span()), "select lists no columns"));
                }
                let names: Vec<String> = picked.iter().map(|c| c.name.clone()).collect();
                Ok(self.g.project(input, &names, picked, &loc))
            }
        }
    }

    /// A step's new column must not clash with a column it does not replace.
    fn check_new(
        &self,
        input: TableValue,
        name: &str,
        replaced: &str,
        given: Option<&Spanned<String>>,
        span: Range<usize>,
    ) -> Result<(), JobError> {
        if name != replaced && self.g.schema(input).iter().any(|c| c.name == name) {
            let at = given.map_or(span, Spanned::span);
            return Err(self.at.error(
                Some(at),
                format!("column '{name}' exists already; choose another name with 'as'"),
            ));
        }
        Ok(())
    }

    /// `input`'s last column (just appended) put in place of `replaced` when named
    /// alike, or kept at the end under `name`.
    fn place(&mut self, input: TableValue, replaced: &str, name: &str, loc: &SourceLoc) -> TableValue {
        let schema = self.g.schema(input).clone();
        let (last, rest) = schema.split_last().expect("a column was appended");
        let mut columns = Vec::new();
        let mut out = Vec::new();
        for c in rest {
            if c.name == replaced && name == replaced {
                columns.push(last.name.clone());
                out.push(Column::new(name, last.ty, last.nullable));
            } else {
                columns.push(c.name.clone());
                out.push(c.clone());
            }
        }
        if name != replaced {
            columns.push(last.name.clone());
            out.push(Column::new(name, last.ty, last.nullable));
        }
        self.g.project(input, &columns, out, loc)
    }

    /// A SQL step's error, where it points or else where the step's SQL starts.
    fn sql_error(&self, e: skadi_sql::SqlError, step: Snippet<'_>) -> JobError {
        let (line, column) = e.position.unwrap_or((step.line as usize, step.column as usize));
        JobError {
            source_name: self.at.source_name.to_string(),
            line,
            column,
            message: e.message,
        }
    }

    fn reduce(&mut self, input: TableValue, r: &Spanned<spec::Reduce>) -> Result<TableValue, JobError> {
        let reduce = r.get_ref();
        let loc = self.at.loc(r.span());
        let call = Regex::new(r"^\s*([A-Za-z_]+)\s*\(\s*([^()]*?)\s*\)\s*$").expect("a valid regex");
        let mut keys = Vec::new();
        let mut out = Vec::new();
        for k in reduce.key.get_ref() {
            let c = self.column(input, k.get_ref(), k.span())?;
            if keys.contains(&c.name) {
                return Err(self
                    .at
                    .error(Some(k.span()), format!("key '{}' is listed twice", c.name)));
            }
            keys.push(c.name.clone());
            out.push(c);
        }
        if reduce.values.get_ref().is_empty() {
            return Err(self.at.error(
                Some(reduce.values.span()),
                "values lists no outputs (e.g. count = \"count(*)\")",
            ));
        }
        let mut calls = Vec::new();
        for (name, value) in reduce.values.get_ref() {
            let text = value.get_ref();
            let bad = |m: String| self.at.error(Some(value.span()), m);
            if out.iter().any(|c| c.name == *name) {
                return Err(bad(format!("output column '{name}' is also a key or another value")));
            }
            let Some(m) = call.captures(text) else {
                return Err(bad(format!(
                    "'{text}' is not a reduce call such as count(*), sum(column), collect(column)"
                )));
            };
            let function = match &m[1] {
                "count" if &m[2] == "*" => AggregateFunction::CountRows,
                "count" => AggregateFunction::Count,
                "sum" => AggregateFunction::Sum,
                "min" => AggregateFunction::Min,
                "max" => AggregateFunction::Max,
                "avg" => AggregateFunction::Avg,
                "collect" => AggregateFunction::Collect,
                "collect_set" => AggregateFunction::CollectSet,
                other => {
                    return Err(bad(format!(
                        "unknown reduce function '{other}' (sum, count, min, max, avg, collect, collect_set)"
                    )));
                }
            };
            let arg = match function {
                AggregateFunction::CountRows => None,
                _ => {
                    let c = self.column(input, &m[2], value.span())?;
                    Some(c)
                }
            };
            let ty = function.output_type(arg.as_ref().map(|c| c.ty)).ok_or_else(|| {
                bad(format!(
                    "not supported yet: {}() over {} column '{}'",
                    function.name(),
                    arg.as_ref().map(|c| c.ty.to_string()).unwrap_or_default(),
                    arg.as_ref().map(|c| c.name.as_str()).unwrap_or_default()
                ))
            })?;
            let nullable = !matches!(function, AggregateFunction::Count | AggregateFunction::CountRows);
            out.push(Column::new(name, ty, nullable));
            calls.push(AggregateCall {
                function,
                input: arg.map(|c| c.name),
            });
        }
        let combine = reduce.combiner.unwrap_or(true);
        Ok(self.g.aggregate_with(input, &keys, &calls, combine, out, &loc))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn job_specs_are_told_by_their_input_table() {
        assert!(super::is_job_spec("[input]\npath = \"x\"\n"));
        assert!(super::is_job_spec("# a job\n  [ input ]   # the files\npath = \"x\"\n"));
        assert!(!super::is_job_spec("[[step]]\nname = \"input\"\n# [input]\n"));
        assert!(!super::is_job_spec("[inputs]\n"));
    }
}
