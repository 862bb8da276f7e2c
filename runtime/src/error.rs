/// A failure while running a plan.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("stage {stage} shard {shard}, vertex #{vertex} ({op}): {message}")]
    Task {
        stage: usize,
        shard: usize,
        vertex: usize,
        op: String,
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
