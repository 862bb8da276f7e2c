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

mod input;
mod map;
mod positions;
mod reduce;
pub mod spec;

pub use positions::Positions;

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
        skadi_common::files::result_format(&p).map_err(|message| c.at.error(Some(path.span()), message))?;
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
