use thiserror::Error;

/// Why a FlowGraph was rejected. `location` is `file:line:col` when the op has one.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum FlowGraphError {
    /// MLIR's parser or verifier (including IRDL's checks) rejected the module.
    #[error("{0}")]
    Mlir(String),
    /// Skadi's verification walk rejected an op.
    #[error("{location}: error: '{op}' op {message}")]
    Verify {
        op: String,
        location: String,
        message: String,
    },
}
