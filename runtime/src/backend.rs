//! The contract between the runtime and a backend, and the registry of backends a
//! runtime dispatches to.

use crate::RuntimeError;
use arrow::record_batch::RecordBatch;
use skadi_common::{PhysicalPlan, Stage, VertexId};
use std::{collections::HashMap, sync::Arc};

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

/// What an executor runs a plan's stages on: each stage goes to the backend its vertices
/// name. A single backend is a set of one; [`Backends`] holds several.
pub trait BackendSet: Sync {
    /// The registered backend of that name.
    fn backend(&self, name: &str) -> Option<&dyn Backend>;
    /// Every registered backend's name, in registration order.
    fn names(&self) -> Vec<String>;
}

impl<B: Backend> BackendSet for B {
    fn backend(&self, name: &str) -> Option<&dyn Backend> {
        (self.name() == name).then_some(self as &dyn Backend)
    }

    fn names(&self) -> Vec<String> {
        vec![self.name().to_string()]
    }
}

/// The backends registered with a session or runtime, by name.
#[derive(Clone, Default)]
pub struct Backends {
    registered: Vec<Arc<dyn Backend>>,
}

impl Backends {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `backend`, replacing one registered under the same name.
    pub fn register(&mut self, backend: Arc<dyn Backend>) {
        match self.registered.iter_mut().find(|b| b.name() == backend.name()) {
            Some(slot) => *slot = backend,
            None => self.registered.push(backend),
        }
    }

    /// `self` with `backend` registered.
    pub fn with(mut self, backend: Arc<dyn Backend>) -> Self {
        self.register(backend);
        self
    }
}

impl BackendSet for Backends {
    fn backend(&self, name: &str) -> Option<&dyn Backend> {
        self.registered.iter().find(|b| b.name() == name).map(|b| b.as_ref())
    }

    fn names(&self) -> Vec<String> {
        self.registered.iter().map(|b| b.name().to_string()).collect()
    }
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// Each stage's backend, prepared for `plan`: every backend the plan names is looked up
/// and prepared before any task runs, so a plan naming a backend that is not registered
/// fails at once, saying which vertex, which backend and what is registered.
pub(crate) fn prepare_stages(
    plan: &PhysicalPlan,
    backends: &dyn BackendSet,
) -> Result<Vec<Arc<dyn PreparedPlan>>, RuntimeError> {
    let mut prepared: Vec<(&str, Arc<dyn PreparedPlan>)> = Vec::new();
    for v in &plan.vertices {
        if prepared.iter().any(|(name, _)| *name == v.backend) {
            continue;
        }
        let backend = backends
            .backend(&v.backend)
            .ok_or_else(|| RuntimeError::UnregisteredBackend {
                vertex: v.id,
                op: v.op.name().into(),
                backend: v.backend.clone(),
                registered: backends.names(),
            })?;
        prepared.push((&v.backend, Arc::from(backend.prepare(plan)?)));
    }
    plan.stages
        .iter()
        .map(|s| {
            let backend = &plan.vertices[s.vertices[0]].backend;
            prepared
                .iter()
                .find(|(name, _)| name == backend)
                .map(|(_, p)| p.clone())
                .ok_or_else(|| RuntimeError::Plan(format!("stage {} has no prepared backend", s.id)))
        })
        .collect()
}
