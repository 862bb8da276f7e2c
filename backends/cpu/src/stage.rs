//! The stage driver: runs one shard of a stage as a chain of streams, one per vertex
//! (each operator family's stream is in its own file), materializing a vertex's batches
//! only where more than one reader takes them.

use crate::{
    aggregate, combine, fold,
    jit::{CompiledBodies, Kernel},
    join,
    kernel::KernelSpec,
    order,
    planning::{op_kernel, step_schemas},
    profile::Profile,
    rows, scan, sets, string_functions, strings, train, window,
};
use arrow::{
    array::{ArrayRef, RecordBatch, RecordBatchOptions},
    datatypes::{Schema, SchemaRef},
};
use skadi_common::{Operator, PhysicalPlan, ProjectExpr, Stage, Step, VertexId, types::to_arrow_schema};
use skadi_runtime::{PreparedPlan, RuntimeError, StageInputs};
use std::{collections::HashMap, sync::Arc};

/// Batches as a vertex produces them, pulled by its reader.
pub(crate) type Stream<'a> = Box<dyn Iterator<Item = Result<RecordBatch, RuntimeError>> + 'a>;

/// A plan prepared for the CPU: its compiled kernels, shared by every shard.
pub(crate) struct CpuPlan {
    pub(crate) plan: PhysicalPlan,
    pub(crate) compiled: Option<Arc<CompiledBodies>>,
    pub(crate) shared: Arc<crate::code::Shared>,
}

impl CpuPlan {
    /// The kernel `op` calls on batches of schema `input`.
    pub(crate) fn kernel(&self, op: &Operator, input: &Schema) -> Result<&Kernel, String> {
        let Some(spec) = op_kernel(op, input) else {
            return Err(format!("{} calls no body", op.name()));
        };
        self.compiled_kernel(&spec)
    }

    pub(crate) fn compiled_kernel(&self, spec: &KernelSpec) -> Result<&Kernel, String> {
        self.compiled
            .as_ref()
            .and_then(|c| c.kernels.get(spec))
            .ok_or_else(|| format!("no compiled kernel {}", spec.symbol()))
    }

    /// Counts one call into compiled code (one per batch a kernel processes).
    pub(crate) fn count_call(&self) {
        self.shared.count_call();
    }

    /// The output stream of `op` (producing `out_schema`) on one shard.
    fn operator<'a>(
        &'a self,
        op: &'a Operator,
        out_schema: SchemaRef,
        shard: usize,
        mut inputs: Vec<(Stream<'a>, SchemaRef)>,
        at: Failure<'a>,
    ) -> Result<Stream<'a>, RuntimeError> {
        let fail = move |message: String| at.error(message);
        match op {
            Operator::Scan(s) => return scan::stream(s, shard, out_schema, fail),
            Operator::Fused { steps } => return self.fused(steps, shard, inputs, at),
            Operator::HashJoin { join, build } => {
                return join::stream(self, op, join, *build, inputs, out_schema, fail);
            }
            Operator::Union(_) => return Ok(sets::union_stream(inputs, out_schema, fail)),
            Operator::Values(v) => return sets::values_stream(v, shard, out_schema, fail),
            _ => {}
        }
        if inputs.len() != 1 {
            return Err(fail(format!("reads {} inputs; {} reads one", inputs.len(), op.name())));
        }
        let (input, in_schema) = inputs.pop().expect("one input");
        let kernel = match op.body() {
            Some(_) => Some(self.kernel(op, &in_schema).map_err(fail)?),
            None => None,
        };
        let kernel = || kernel.ok_or_else(|| fail(format!("{} has no body", op.name())));
        Ok(match op {
            Operator::Scan(_)
            | Operator::Fused { .. }
            | Operator::HashJoin { .. }
            | Operator::Union(_)
            | Operator::Values(_) => {
                unreachable!("handled above")
            }
            Operator::Filter(f) => rows::filter(self, f, kernel()?, input, &in_schema, fail)?,
            Operator::Project(p) => rows::project(p, input, &in_schema, out_schema, fail)?,
            Operator::Map(m) => rows::map(self, m, kernel()?, input, &in_schema, out_schema, fail)?,
            Operator::Pipeline(p) => rows::pipeline(self, p, kernel()?, input, &in_schema, out_schema, fail)?,
            Operator::Match(m) => strings::match_stream(m, input, &in_schema, out_schema, fail)?,
            Operator::StringFunction(f) => string_functions::function_stream(f, input, &in_schema, out_schema, fail)?,
            Operator::Pick(p) => combine::pick_stream(p, input, &in_schema, out_schema, fail)?,
            Operator::Concat(c) => combine::concat_stream(c, input, &in_schema, out_schema, fail)?,
            Operator::Compare(c) => combine::compare_stream(c, input, &in_schema, out_schema, fail)?,
            Operator::FlatMap(f) => strings::flat_map_stream(f, input, &in_schema, out_schema, fail)?,
            Operator::Aggregate { mode, aggregate } => {
                aggregate::stream(*mode, aggregate, input, &in_schema, out_schema, fail)?
            }
            Operator::Iterate { iterate, threads } => {
                train::stream(self, iterate, *threads, kernel()?, input, &in_schema, out_schema, fail)?
            }
            Operator::Sort(s) => order::sort_stream(s, input, &in_schema, fail)?,
            Operator::TopK(t) => order::top_k_stream(t, input, &in_schema, fail)?,
            Operator::Window(w) => window::window_stream(w, input, &in_schema, out_schema, fail)?,
            Operator::Limit(l) => order::limit_stream(l, input),
            Operator::Sink(s) => order::sink_stream(s, input, &in_schema, fail)?,
        })
    }

    /// A fused vertex: each step's stream feeds the next; a pipeline followed by an
    /// aggregate it can fold into runs as one folded step (fold.rs).
    fn fused<'a>(
        &'a self,
        steps: &'a [Step],
        shard: usize,
        inputs: Vec<(Stream<'a>, SchemaRef)>,
        at: Failure<'a>,
    ) -> Result<Stream<'a>, RuntimeError> {
        let schemas = step_schemas(steps);
        let mut current = inputs;
        let mut k = 0;
        while k < steps.len() {
            let step = &steps[k];
            let piped = schemas[k].clone();
            // An error in a step points at the step's source, not the vertex's first.
            let at = Failure {
                step: Some(step.op.name()),
                location: step.location.as_deref().or(at.location),
                ..at
            };
            let fail = move |message: String| at.error(message);
            let fold = match (steps.get(k + 1), current.as_slice()) {
                (Some(next), [(_, input)]) => fold::fold_plan(&step.op, input, &piped, &next.op).map(|f| (f, next)),
                _ => None,
            };
            let stream = match fold {
                Some((plan, next)) => {
                    k += 1;
                    let input = current.pop().expect("one input");
                    fold::stream(self, &plan, step, next, input, piped, fail)?
                }
                None => self.operator(&step.op, piped, shard, current, at)?,
            };
            current = vec![(stream, schemas[k].clone())];
            k += 1;
        }
        Ok(current.pop().ok_or_else(|| at.error("has no steps".into()))?.0)
    }
}

impl PreparedPlan for CpuPlan {
    fn run_shard(
        &self,
        stage: &Stage,
        shard: usize,
        mut inputs: StageInputs,
        outputs: &[VertexId],
    ) -> Result<HashMap<VertexId, Vec<RecordBatch>>, RuntimeError> {
        // A vertex read more than once (by several vertices, or also outside the stage) is
        // materialized; each reader gets the batches. Others stream into their one reader.
        let mut uses: HashMap<VertexId, usize> = HashMap::new();
        for &id in &stage.vertices {
            for e in self.plan.vertices[id]
                .inputs
                .iter()
                .filter(|e| !e.partitioning.is_exchange())
            {
                *uses.entry(e.from).or_default() += 1;
            }
        }
        for id in outputs {
            *uses.entry(*id).or_default() += 1;
        }
        let profile = skadi_runtime::profiling().then(Profile::default);
        let mut streams: HashMap<VertexId, Stream> = HashMap::new();
        let mut kept: HashMap<VertexId, Vec<RecordBatch>> = HashMap::new();
        for &id in &stage.vertices {
            let v = &self.plan.vertices[id];
            let at = Failure {
                stage: stage.id,
                shard,
                vertex: id,
                op: v.op.name(),
                step: None,
                location: v.location.as_deref(),
            };
            let fail = move |message: String| at.error(message);
            let mut vertex_inputs: Vec<(Stream, SchemaRef)> = Vec::new();
            for (k, e) in v.inputs.iter().enumerate() {
                let schema: SchemaRef = Arc::new(to_arrow_schema(&self.plan.vertices[e.from].schema));
                let stream: Stream = if e.partitioning.is_exchange() {
                    let batches = inputs.remove(&(id, k)).unwrap_or_default();
                    Box::new(batches.into_iter().map(Ok))
                } else if let Some(batches) = kept.get(&e.from) {
                    Box::new(batches.clone().into_iter().map(Ok))
                } else {
                    streams
                        .remove(&e.from)
                        .ok_or_else(|| fail(format!("input #{} is not in this stage", e.from)))?
                };
                vertex_inputs.push((stream, schema));
            }
            let start = std::time::Instant::now();
            let out_schema = Arc::new(to_arrow_schema(&v.schema));
            let stream = self.operator(&v.op, out_schema, shard, vertex_inputs, at)?;
            let stream = match &profile {
                Some(p) => p.wrap(id, start.elapsed(), stream),
                None => stream,
            };
            if uses.get(&id).copied().unwrap_or(0) > 1 {
                kept.insert(id, stream.collect::<Result<_, _>>()?);
            } else {
                streams.insert(id, stream);
            }
        }
        let mut out = HashMap::new();
        for &id in outputs {
            let batches = match kept.get(&id) {
                Some(b) => b.clone(),
                None => streams
                    .remove(&id)
                    .ok_or_else(|| RuntimeError::Plan(format!("vertex #{id} is not in stage {}", stage.id)))?
                    .collect::<Result<_, _>>()?,
            };
            out.insert(id, batches);
        }
        if let Some(p) = profile {
            p.report(&self.plan, stage, shard, &kept);
        }
        Ok(out)
    }
}

/// Where in a stage's run a failure happened: the task, the vertex (and, in a fused
/// vertex, the step) and where in the user's source that came from.
#[derive(Clone, Copy)]
pub(crate) struct Failure<'a> {
    stage: usize,
    shard: usize,
    vertex: VertexId,
    op: &'a str,
    step: Option<&'a str>,
    location: Option<&'a str>,
}

impl Failure<'_> {
    pub(crate) fn error(self, message: String) -> RuntimeError {
        RuntimeError::Task {
            stage: self.stage,
            shard: self.shard,
            vertex: self.vertex,
            op: match self.step {
                Some(step) => format!("{}: {step}", self.op),
                None => self.op.to_string(),
            },
            location: self.location.map(str::to_string),
            message,
        }
    }
}

/// A batch of `rows` rows (stated, so a batch without columns keeps its row count).
pub(crate) fn batch(schema: &SchemaRef, columns: Vec<ArrayRef>, rows: usize) -> Result<RecordBatch, String> {
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options).map_err(|e| e.to_string())
}

pub(crate) fn column_indices(schema: &Schema, names: &[String]) -> Result<Vec<usize>, String> {
    names
        .iter()
        .map(|n| schema.index_of(n).map_err(|_| format!("no input column '{n}'")))
        .collect()
}

/// The position of input column `name`.
pub(crate) fn column_index(schema: &Schema, name: &str) -> Result<usize, String> {
    schema.index_of(name).map_err(|_| format!("no input column '{name}'"))
}

/// Where each output column of a map or pipeline comes from: `Ok(i)`, input column i;
/// `Err(n)`, the body's result n.
pub(crate) fn picks(schema: &Schema, exprs: &[ProjectExpr]) -> Result<Vec<Result<usize, usize>>, String> {
    exprs
        .iter()
        .map(|e| match e {
            ProjectExpr::Column(c) => Ok(Ok(column_index(schema, c)?)),
            ProjectExpr::Body(n) => Ok(Err(*n)),
        })
        .collect()
}
