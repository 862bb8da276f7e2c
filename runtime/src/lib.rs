//! The runtime tier: runs a physical plan and never re-plans it. A task is one shard of
//! one stage; tasks go to a pool of worker threads (the embedded executor), take their
//! exchange inputs from the shared cache through futures, and put their output there,
//! partitioned for each consumer edge.
//!
//! What a vertex computes is the backend's business ([`Backend`]): each stage runs on the
//! backend its vertices name, looked up in the registered [`Backends`] before any task
//! runs. The runtime owns scheduling, the cache, and the exchanges between stages.

mod backend;
mod cache;
mod error;
mod exchange;
mod executor;

pub use backend::{Backend, BackendSet, Backends, PreparedPlan, StageInputs};
pub use cache::{Cache, CacheKey, CacheStats};
pub use error::RuntimeError;
pub use exchange::partition_batches;
pub use executor::{LocalExecutor, Progress, RunOutput};

/// Whether `SKADI_PROFILE` is set (non-empty, not `0`): a developer's knob. Shards then
/// report on stderr each vertex's own time and rows (the CPU backend) and each exchange's
/// partitioning time and each shard's wall time within the run (the executor).
pub fn profiling() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SKADI_PROFILE").is_some_and(|v| !v.is_empty() && v != "0"))
}
