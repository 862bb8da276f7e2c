/// A failure while running a plan.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A vertex failed on one shard; `location` is where in the user's source the vertex
    /// came from (a spec's line, a query's column), when the plan knows.
    #[error(
        "{}stage {stage} shard {shard}, vertex #{vertex} ({op}): {message}",
        location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default()
    )]
    Task {
        stage: usize,
        shard: usize,
        vertex: usize,
        op: String,
        location: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Backend(String),
    #[error("exchange: {0}")]
    Exchange(String),
    #[error("the plan is inconsistent: {0}")]
    Plan(String),
    #[error(
        "vertex #{vertex} ({op}) runs on backend '{backend}', which is not registered (registered: {})",
        registered.join(", ")
    )]
    UnregisteredBackend {
        vertex: usize,
        op: String,
        backend: String,
        registered: Vec<String>,
    },
}
