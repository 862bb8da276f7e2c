//! What a user gives Skadi to compile: SQL, a Substrait plan, a MapReduce job spec, a
//! pipeline spec, a FlowGraph module or a saved physical plan — told apart here, once,
//! for the CLI and for embedders alike.

use crate::Error;
use std::path::Path;

/// The kinds of input [`crate::Session::compile_source`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Sql,
    /// A Substrait plan, held as its JSON form (see [`Source::substrait`]).
    Substrait,
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

    /// A Substrait plan from another engine, as protobuf bytes or JSON; `name` names it
    /// in errors (a JSON error points at its line and column). It is kept as its JSON
    /// form, whichever it came in.
    pub fn substrait(bytes: &[u8], name: impl Into<String>) -> Result<Source, Error> {
        let name = name.into();
        let plan = skadi_substrait::decode(bytes).map_err(|error| Error::Sql {
            source_name: name.clone(),
            text: String::from_utf8_lossy(bytes).into_owned(),
            position: error.position,
            error,
        })?;
        let json = skadi_substrait::encode(&plan, skadi_substrait::Encoding::Json);
        let text = String::from_utf8(json).map_err(|e| Error::Other(format!("{name}: {e}")))?;
        Ok(Source::new(SourceKind::Substrait, text, name))
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
        if kind == SourceKind::Substrait {
            let bytes = std::fs::read(path).map_err(Error::io(path))?;
            return Source::substrait(&bytes, path.display().to_string());
        }
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        Ok(Source::new(kind, text, path.display().to_string()))
    }

    /// Whether compiling it reads a catalog (SQL and Substrait name tables; the others
    /// name files).
    pub fn needs_catalog(&self) -> bool {
        matches!(self.kind, SourceKind::Sql | SourceKind::Substrait)
    }
}
