//! What a user gives Skadi to compile: SQL, a MapReduce job spec, a pipeline spec, a
//! FlowGraph module or a saved physical plan — told apart here, once, for the CLI and
//! for embedders alike.

use crate::Error;
use std::path::Path;

/// The kinds of input [`crate::Session::compile_source`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Sql,
    /// A MapReduce job spec (TOML with an `[input]` table; docs/JOB_SPEC.md).
    Job,
    /// A pipeline spec (TOML with `[[step]]` tables; docs/PIPELINE_SPEC.md).
    Pipeline,
    /// A FlowGraph module (`--emit flowgraph`'s text).
    FlowGraph,
    /// A physical plan saved with `--emit json` (docs/PLAN_FORMAT.md).
    Plan,
}

/// Source text, the name locations and errors use for it, and its kind.
#[derive(Debug, Clone)]
pub struct Source {
    pub text: String,
    pub name: String,
    pub kind: SourceKind,
}

impl Source {
    pub fn new(kind: SourceKind, text: impl Into<String>, name: impl Into<String>) -> Source {
        Source {
            text: text.into(),
            name: name.into(),
            kind,
        }
    }

    /// SQL text; `name` names it in locations (`q1.sql:3:7`).
    pub fn sql(text: impl Into<String>, name: impl Into<String>) -> Source {
        Source::new(SourceKind::Sql, text, name)
    }

    /// Reads a file and tells its kind from its extension (and, for `.toml`, its
    /// tables): `.toml` a pipeline or job spec, `.mlir` a FlowGraph module, `.json` a
    /// saved physical plan, anything else SQL.
    pub fn read(path: &Path) -> Result<Source, Error> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        let name = path.display().to_string();
        let kind = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") if skadi_pipeline::is_pipeline_spec(&text) => SourceKind::Pipeline,
            Some("toml") if skadi_mapreduce::is_job_spec(&text) => SourceKind::Job,
            Some("toml") => {
                return Err(Error::Other(format!(
                    "{name}: neither a job spec (a MapReduce job has an [input] table; docs/JOB_SPEC.md) nor a pipeline (a pipeline has [[step]] tables; docs/PIPELINE_SPEC.md)"
                )));
            }
            Some("mlir") => SourceKind::FlowGraph,
            Some("json") => SourceKind::Plan,
            _ => SourceKind::Sql,
        };
        Ok(Source { text, name, kind })
    }

    /// Reads a file as the given kind, whatever its extension.
    pub fn read_as(kind: SourceKind, path: &Path) -> Result<Source, Error> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        Ok(Source::new(kind, text, path.display().to_string()))
    }

    /// Whether compiling it reads a catalog (SQL names tables; the others name files).
    pub fn needs_catalog(&self) -> bool {
        self.kind == SourceKind::Sql
    }
}
