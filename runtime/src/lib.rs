//! The runtime tier: runs a physical plan and never re-plans it. A task is one shard of
//! one stage; tasks go to a pool of worker threads (the embedded executor), take their
//! exchange inputs from the shared cache through futures, and put their output there,
//! partitioned for each consumer edge.
//!
//! What a vertex computes is the backend's business ([`Backend`]); the runtime owns
//! scheduling, the cache, and the exchanges between stages.

mod backend;
mod cache;
mod error;
mod exchange;
mod executor;

pub use backend::{Backend, PreparedPlan, StageInputs};
pub use cache::{Cache, CacheKey, CacheStats};
pub use error::RuntimeError;
pub use exchange::partition_batches;
pub use executor::{LocalExecutor, Progress, RunOutput};
