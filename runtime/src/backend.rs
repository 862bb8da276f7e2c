//! The contract between the runtime and a backend.

use crate::RuntimeError;
use arrow::record_batch::RecordBatch;
use skadi_common::{PhysicalPlan, Stage, VertexId};
use std::collections::HashMap;

/// Batches delivered to a stage's vertices on exchange edges: `(vertex, input edge index)`
/// → every batch of that edge for this shard.
pub type StageInputs = HashMap<(VertexId, usize), Vec<RecordBatch>>;

/// A backend turns a plan into something that runs shards. Preparing is where per-plan
/// work happens (compiling bodies), once, before any task runs.
pub trait Backend: Send + Sync {
    fn name(&self) -> &str;
    fn prepare(&self, plan: &PhysicalPlan) -> Result<Box<dyn PreparedPlan>, RuntimeError>;
}

/// A plan ready to run on one backend; shared by all worker threads.
pub trait PreparedPlan: Send + Sync {
    /// Runs shard `shard` of `stage` and returns the output of each vertex in `outputs`
    /// (the stage's vertices that other stages read, and the plan's output).
    fn run_shard(
        &self,
        stage: &Stage,
        shard: usize,
        inputs: StageInputs,
        outputs: &[VertexId],
    ) -> Result<HashMap<VertexId, Vec<RecordBatch>>, RuntimeError>;
}
