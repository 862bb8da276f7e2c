use skadi_sql::SqlError;

/// Everything that can go wrong between source text and result rows. Each variant
/// carries what the CLI needs to point at the cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{source_name}{}: {}", position.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default(), error.message)]
    Sql {
        source_name: String,
        text: String,
        position: Option<(usize, usize)>,
        error: SqlError,
    },
    /// A MapReduce job spec that does not compile; `text` is the spec, for pointing.
    #[error("{error}")]
    Job {
        text: String,
        error: skadi_mapreduce::JobError,
    },
    #[error(transparent)]
    Catalog(#[from] skadi_catalog::CatalogError),
    #[error("{0}")]
    FlowGraph(#[from] skadi_flowgraph::FlowGraphError),
    #[error(transparent)]
    Pass(#[from] skadi_compiler::passes::PassError),
    #[error(transparent)]
    Lower(#[from] skadi_compiler::LowerError),
    #[error(transparent)]
    Plan(#[from] skadi_common::PlanError),
    #[error(transparent)]
    Runtime(#[from] skadi_runtime::RuntimeError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub(crate) fn io(path: impl AsRef<std::path::Path>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.as_ref().display().to_string();
        move |source| Error::Io { path, source }
    }
}
