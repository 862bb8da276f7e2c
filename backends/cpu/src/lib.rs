//! The CPU backend. Bodies (filter predicates, map expressions) are compiled from their
//! MLIR to native code through the LLVM dialect and MLIR's JIT, once per plan (a plan
//! whose bodies and kernels were compiled before reuses that code), and called once per
//! record batch; handcrafted operators (scan, hash aggregate, sort, limit) use
//! arrow-rs and parquet.
//!
//! A backend runs vertices; it never plans, schedules or moves data between stages (the
//! runtime does), and it knows nothing of SQL.

mod aggregate;
mod eval;
mod fold;
mod jit;
mod join;
mod kernel;
mod keys;
mod order;
mod scan;
mod strings;
mod train;

pub use jit::LOWERING_PIPELINE;

use arrow::{
    array::{ArrayRef, RecordBatch, RecordBatchOptions},
    compute::{FilterBuilder, filter_record_batch},
    datatypes::{Schema, SchemaRef},
};
use jit::{CompiledBodies, Kernel};
use kernel::KernelSpec;
use skadi_common::{Column, Operator, PhysicalPlan, ProjectExpr, Stage, VertexId, types::to_arrow_schema};
use skadi_runtime::{Backend, PreparedPlan, RuntimeError, StageInputs};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

/// The CPU backend. Clones share their counters and compiled code.
#[derive(Debug, Default, Clone)]
pub struct CpuBackend {
    shared: Arc<Shared>,
}

/// What a backend's clones share: counters and the code cache.
struct Shared {
    /// Whether plans reuse code compiled for earlier plans.
    reuse: bool,
    compilations: AtomicUsize,
    kernel_calls: AtomicUsize,
    /// Code compiled for earlier plans, by what it was compiled from, oldest first.
    compiled: Mutex<Vec<(CodeKey, Arc<CompiledBodies>)>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            reuse: true,
            compilations: AtomicUsize::new(0),
            kernel_calls: AtomicUsize::new(0),
            compiled: Mutex::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("compilations", &self.compilations)
            .field("kernel_calls", &self.kernel_calls)
            .finish_non_exhaustive()
    }
}

/// What a plan's native code is compiled from: its bodies' MLIR and the kernels over them.
type CodeKey = (Vec<(String, String)>, Vec<KernelSpec>);

/// How many plans' code a backend keeps. Compiling is tens of milliseconds per plan
/// (LLVM at -O2), as much as running a small query; a query run again, or another query
/// with the same bodies, reuses the code (like a prepared statement).
const COMPILED_PLANS: usize = 64;

/// A plan's bodies lowered for the CPU, for inspection (`skadi compile --emit llvm`).
pub struct LoweredBodies {
    /// The kernels module after lowering, in MLIR's LLVM dialect.
    pub llvm_dialect: String,
    /// The same module as LLVM IR: what the JIT compiles to machine code.
    pub llvm_ir: String,
}

fn plan_bodies(plan: &PhysicalPlan) -> Vec<(String, String)> {
    plan.bodies.iter().map(|b| (b.name.clone(), b.mlir.clone())).collect()
}

/// The kernel for `body` over `args` of a batch with schema `input`: decimals of
/// precision ≤ 18 are read in place and converted in the loop.
fn kernel_spec(body: &str, args: &[String], input: &Schema, guard: Option<usize>) -> KernelSpec {
    let forms = args
        .iter()
        .map(|a| {
            input
                .field_with_name(a)
                .ok()
                .and_then(|f| kernel::decimal_form(f.data_type()))
        })
        .collect();
    KernelSpec {
        body: body.to_string(),
        forms,
        guard,
        reduce: None,
        fold: None,
        predicate: None,
    }
}

/// The kernel `op` calls on batches of schema `input`, if it calls one.
fn op_kernel(op: &Operator, input: &Schema) -> Option<KernelSpec> {
    let body = op.body()?;
    Some(match op {
        // A training step sums over rows the operator has converted to the body's types.
        Operator::Iterate { args, .. } => KernelSpec {
            body: body.to_string(),
            forms: vec![None; args.len()],
            guard: None,
            reduce: Some(args.len()),
            fold: None,
            predicate: None,
        },
        _ => kernel_spec(body, body_args(op), input, guard(op)),
    })
}

/// The kept-rows result a pipeline's kernel branches on.
fn guard(op: &Operator) -> Option<usize> {
    match op {
        Operator::Pipeline { keep, .. } => *keep,
        _ => None,
    }
}

/// The columns an operator passes to its body.
fn body_args(op: &Operator) -> &[String] {
    match op {
        Operator::Filter { args, .. } | Operator::Pipeline { args, .. } | Operator::Project { args, .. } => args,
        Operator::HashJoin { filter_args, .. } => filter_args,
        _ => &[],
    }
}

/// The Arrow schema each step of a fused vertex produces. A scan whose pipeline follows
/// it (directly, or after string matches and functions, which pass every column on)
/// reads as Decimal64 each decimal column (precision ≤ 18) that only compiled code
/// reads: the pipeline's body, or a fold into the aggregate after it that sees no NULL
/// (fold.rs), not passed on as a column. Kernels read such a column in place either
/// way, and Parquet then decodes 8-byte values into 8-byte slots instead of widening
/// each to 16 bytes (a third of a scan's time, for a table of decimals).
fn step_schemas(steps: &[skadi_common::Step]) -> Vec<SchemaRef> {
    use arrow::datatypes::DataType;
    let mut schemas: Vec<Schema> = steps.iter().map(|s| to_arrow_schema(&s.schema)).collect();
    if let Some((p, narrow)) = narrow_decimals(steps, &schemas) {
        for schema in &mut schemas[..p] {
            let fields: Vec<Arc<arrow::datatypes::Field>> = schema
                .fields()
                .iter()
                .map(|field| match field.data_type() {
                    DataType::Decimal128(precision, scale) if narrow.contains(field.name()) => Arc::new(
                        field
                            .as_ref()
                            .clone()
                            .with_data_type(DataType::Decimal64(*precision, *scale)),
                    ),
                    _ => field.clone(),
                })
                .collect();
            *schema = Schema::new(fields);
        }
    }
    schemas.into_iter().map(Arc::new).collect()
}

/// For [`step_schemas`]: the pipeline's step and the decimal columns the steps before it
/// read as Decimal64, when those steps are a scan and string steps.
fn narrow_decimals(steps: &[skadi_common::Step], schemas: &[Schema]) -> Option<(usize, Vec<String>)> {
    let p = steps.iter().position(|s| matches!(s.op, Operator::Pipeline { .. }))?;
    let Operator::Pipeline { args, exprs, .. } = &steps[p].op else {
        unreachable!("found as a pipeline")
    };
    if p == 0 || !matches!(steps[0].op, Operator::Scan { .. }) {
        return None;
    }
    // The column each step between the scan and the pipeline reads itself.
    let between = steps[1..p]
        .iter()
        .map(|step| match &step.op {
            Operator::Match { column, .. } | Operator::StringFunction { column, .. } => Some(column),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let input = &schemas[p - 1];
    let fold = steps
        .get(p + 1)
        .and_then(|next| fold::fold_plan(&steps[p].op, input, &schemas[p], &next.op))
        .filter(|f| !f.nullable);
    let narrow = input
        .fields()
        .iter()
        .enumerate()
        .filter(|(c, field)| {
            let name = field.name();
            let read_by_body = args.contains(name);
            let passed = exprs.iter().any(|e| matches!(e, ProjectExpr::Column(n) if n == name));
            let folded = fold
                .as_ref()
                .is_some_and(|f| f.extras.contains(c) && !f.keys.contains(c));
            matches!(field.data_type(), arrow::datatypes::DataType::Decimal128(p, _) if *p <= 18)
                && (folded || (read_by_body && !passed))
                && !between.contains(&name)
        })
        .map(|(_, field)| field.name().clone())
        .collect();
    Some((p, narrow))
}

/// Every kernel the plan's vertices call, each once.
fn plan_kernels(plan: &PhysicalPlan) -> Vec<KernelSpec> {
    let mut specs: Vec<KernelSpec> = Vec::new();
    for v in &plan.vertices {
        // A step's kernel reads its input's columns (a join's: left ++ right).
        let columns: Vec<Column> = v
            .inputs
            .iter()
            .flat_map(|e| plan.vertices[e.from].schema.iter().cloned())
            .collect();
        let mut input = to_arrow_schema(&columns);
        let steps: Vec<(&Operator, SchemaRef)> = match &v.op {
            Operator::Fused { steps } => steps.iter().map(|s| &s.op).zip(step_schemas(steps)).collect(),
            op => vec![(op, Arc::new(to_arrow_schema(&v.schema)))],
        };
        for (k, (op, output)) in steps.iter().enumerate() {
            let output = output.as_ref().clone();
            // A pipeline folded into the aggregate after it gets the fold's kernels, and
            // its plain one only if a batch can take the unfolded way (see fold.rs).
            let fold = steps
                .get(k + 1)
                .and_then(|(next, _)| fold::fold_plan(op, &input, &output, next));
            let plain = match &fold {
                Some(f) if !f.nullable => None,
                _ => op_kernel(op, &input),
            };
            let folded = fold
                .map(|f| [Some(f.spec), f.predicate])
                .into_iter()
                .flatten()
                .flatten();
            for spec in plain.into_iter().chain(folded) {
                if !specs.contains(&spec) {
                    specs.push(spec);
                }
            }
            input = output;
        }
    }
    specs
}

impl CpuBackend {
    pub fn new() -> Self {
        Self::default()
    }

    /// Without reuse, every prepared plan compiles its own code (to time compiling).
    pub fn with_code_reuse(self, reuse: bool) -> Self {
        CpuBackend {
            shared: Arc::new(Shared {
                reuse,
                ..Shared::default()
            }),
        }
    }

    /// Modules JIT-compiled by this backend: one per prepared plan that has bodies and
    /// whose bodies and kernels it has not compiled before.
    pub fn compilations(&self) -> usize {
        self.shared.compilations.load(Ordering::SeqCst)
    }

    /// Calls into compiled kernels: one per record batch a filter or map processes.
    pub fn kernel_calls(&self) -> usize {
        self.shared.kernel_calls.load(Ordering::SeqCst)
    }

    /// Compiles the plan's bodies as `prepare` does and returns the lowered code.
    pub fn lower_bodies(&self, plan: &PhysicalPlan) -> Result<LoweredBodies, RuntimeError> {
        let compiled = jit::compile(&plan_bodies(plan), &plan_kernels(plan), true).map_err(RuntimeError::Backend)?;
        let (llvm_dialect, llvm_ir) = compiled.text.expect("text was asked for");
        Ok(LoweredBodies { llvm_dialect, llvm_ir })
    }

    /// The native code of `bodies` and `kernels`: compiled before, or now.
    fn compiled(
        &self,
        bodies: Vec<(String, String)>,
        kernels: Vec<KernelSpec>,
    ) -> Result<Arc<CompiledBodies>, RuntimeError> {
        let key = (bodies, kernels);
        let reuse = self.shared.reuse;
        let cache = || {
            self.shared
                .compiled
                .lock()
                .expect("the code cache lock is never poisoned")
        };
        if reuse && let Some((_, code)) = cache().iter().find(|(k, _)| *k == key) {
            return Ok(code.clone());
        }
        // Compiled outside the lock: two plans compile at once, each its own code.
        let code = Arc::new(jit::compile(&key.0, &key.1, false).map_err(RuntimeError::Backend)?);
        self.shared.compilations.fetch_add(1, Ordering::SeqCst);
        if !reuse {
            return Ok(code);
        }
        let mut cache = cache();
        if cache.len() >= COMPILED_PLANS {
            cache.remove(0);
        }
        cache.push((key, code.clone()));
        Ok(code)
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> &str {
        "cpu"
    }

    fn prepare(&self, plan: &PhysicalPlan) -> Result<Box<dyn PreparedPlan>, RuntimeError> {
        let bodies = plan_bodies(plan);
        let compiled = if bodies.is_empty() {
            None
        } else {
            Some(self.compiled(bodies, plan_kernels(plan))?)
        };
        Ok(Box::new(CpuPlan {
            plan: plan.clone(),
            compiled,
            shared: self.shared.clone(),
        }))
    }
}

struct CpuPlan {
    plan: PhysicalPlan,
    compiled: Option<Arc<CompiledBodies>>,
    shared: Arc<Shared>,
}

type Stream<'a> = Box<dyn Iterator<Item = Result<RecordBatch, RuntimeError>> + 'a>;

impl CpuPlan {
    fn kernel(&self, op: &Operator, input: &Schema) -> Result<&Kernel, String> {
        let Some(spec) = op_kernel(op, input) else {
            return Err(format!("{} calls no body", op.name()));
        };
        self.compiled_kernel(&spec)
    }

    fn compiled_kernel(&self, spec: &KernelSpec) -> Result<&Kernel, String> {
        self.compiled
            .as_ref()
            .and_then(|c| c.kernels.get(spec))
            .ok_or_else(|| format!("no compiled kernel {}", spec.symbol()))
    }

    fn count_call(&self) {
        self.shared.kernel_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// A pipeline's output for one batch: its body's results and passed-through columns
    /// (`picks`: an input column, or a result), only the rows its predicate keeps.
    fn pipeline_batch(
        &self,
        op: &Operator,
        kernel: &Kernel,
        b: &RecordBatch,
        args: &[usize],
        picks: &[Result<usize, usize>],
        out_schema: &SchemaRef,
    ) -> Result<RecordBatch, String> {
        let Operator::Pipeline { keep, strict, .. } = op else {
            return Err(format!("{} is not a pipeline", op.name()));
        };
        self.count_call();
        let (computed, _) = eval::evaluate(kernel, b, args, Some(strict))?;
        let columns: Vec<ArrayRef> = picks
            .iter()
            .map(|p| match p {
                Ok(i) => b.column(*i).clone(),
                Err(n) => computed[*n].clone(),
            })
            .collect();
        let (columns, rows) = match keep {
            None => (columns, b.num_rows()),
            Some(k) => {
                let mask = eval::keep_mask(&computed[*k]);
                let predicate = FilterBuilder::new(&mask).optimize().build();
                let columns = columns
                    .iter()
                    .map(|c| predicate.filter(c))
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string())?;
                (columns, predicate.count())
            }
        };
        batch(out_schema, columns, rows)
    }

    /// A pipeline step and the aggregate step after it, as `plan` folds them: each batch
    /// without NULLs in the columns the kernel reads goes through the folded kernel,
    /// any other through the pipeline and then the aggregate.
    fn folded<'a>(
        &'a self,
        plan: &fold::FoldPlan,
        pipeline: &'a skadi_common::Step,
        aggregate: &'a skadi_common::Step,
        (input, in_schema): (Stream<'a>, SchemaRef),
        piped: SchemaRef,
        fail: impl Fn(String) -> RuntimeError + Copy + 'a,
    ) -> Result<Stream<'a>, RuntimeError> {
        let (Operator::Pipeline { args, exprs, .. }, Operator::Aggregate { mode, keys, aggregates }) =
            (&pipeline.op, &aggregate.op)
        else {
            return Err(fail("folds a pipeline into an aggregate".into()));
        };
        let plain = match plan.nullable {
            true => Some(self.kernel(&pipeline.op, &in_schema).map_err(fail)?),
            false => None,
        };
        let folded = self.compiled_kernel(&plan.spec).map_err(fail)?;
        let args = column_indices(&in_schema, args).map_err(fail)?;
        let picks = picks(&in_schema, exprs).map_err(fail)?;
        let out = Arc::new(to_arrow_schema(&aggregate.schema));
        let mut agg = aggregate::HashAggregate::new(*mode, keys, aggregates, &piped, out).map_err(fail)?;
        let fold = plan.spec.fold.as_ref().expect("a fold plan's kernel folds");
        let predicate = match &plan.predicate {
            Some(spec) => Some(self.compiled_kernel(spec).map_err(fail)?),
            None => None,
        };
        for b in input {
            let b = b?;
            let nulls = plan.checked.iter().any(|&c| b.column(c).null_count() > 0);
            if nulls {
                let plain = plain.ok_or_else(|| fail("a NULL in a column its schema says has none".into()))?;
                let rows = self
                    .pipeline_batch(&pipeline.op, plain, &b, &args, &picks, &piped)
                    .map_err(fail)?;
                agg.push(&rows).map_err(fail)?;
                continue;
            }
            self.count_call();
            let keys: Vec<ArrayRef> = plan.keys.iter().map(|&k| b.column(k).clone()).collect();
            let rows = b.num_rows();
            let mut buffers = Vec::with_capacity(args.len() + plan.extras.len());
            for (j, &c) in args.iter().enumerate() {
                let in_place = folded.forms.get(j).copied().flatten().is_some();
                buffers.push(eval::argument(b.column(c), &folded.signature.params[j], in_place).map_err(fail)?);
            }
            for (&c, (scalar, form)) in plan.extras.iter().zip(&fold.extra) {
                buffers.push(eval::argument(b.column(c), scalar, form.is_some()).map_err(fail)?);
            }
            let mut pointers: Vec<*mut u8> = buffers.iter_mut().map(eval::Buffer::ptr).collect();
            let selected: Vec<u32> = match predicate {
                Some(predicate) => {
                    let mut keep = vec![0u8; rows];
                    let mut at: Vec<*mut u8> = pointers[..args.len()].to_vec();
                    at.push(keep.as_mut_ptr());
                    // SAFETY: the predicate kernel reads argument buffers of `rows` values of
                    // their scalar types (NULL-free, checked above) and writes `rows` bytes.
                    unsafe { (predicate.function)(rows as i64, at.as_ptr()) };
                    eval::pack_bits(&keep).set_indices().map(|r| r as u32).collect()
                }
                None => (0..rows as u32).collect(),
            };
            let (ids, targets) = agg.fold_targets(&keys, rows, &selected).map_err(fail)?;
            pointers.push(selected.as_ptr() as *mut u8);
            pointers.push(ids.as_ptr() as *mut u8);
            pointers.extend(targets);
            // SAFETY: the columns are as fold_kernel_mlir reads them: each argument and extra
            // column `rows` values of its scalar type (NULL-free); the kept rows' indices,
            // each below `rows`; the ids one usize (i64) per row, found for every kept row;
            // each group array one slot per group (fold_targets grew them), untouched until
            // the call returns.
            unsafe { (folded.function)(selected.len() as i64, pointers.as_ptr()) };
        }
        Ok(Box::new(std::iter::once(agg.finish().map_err(fail))))
    }
}

/// A batch of `rows` rows (stated, so a batch without columns keeps its row count).
fn batch(schema: &SchemaRef, columns: Vec<ArrayRef>, rows: usize) -> Result<RecordBatch, String> {
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options).map_err(|e| e.to_string())
}

fn column_indices(schema: &Schema, names: &[String]) -> Result<Vec<usize>, String> {
    names
        .iter()
        .map(|n| schema.index_of(n).map_err(|_| format!("no input column '{n}'")))
        .collect()
}

/// Where each output column of a project or pipeline comes from: `Ok(i)`, input column i;
/// `Err(n)`, the body's result n.
fn picks(schema: &Schema, exprs: &[ProjectExpr]) -> Result<Vec<Result<usize, usize>>, String> {
    exprs
        .iter()
        .map(|e| match e {
            ProjectExpr::Column(c) => Ok(Ok(column_indices(schema, std::slice::from_ref(c))?[0])),
            ProjectExpr::Body(n) => Ok(Err(*n)),
        })
        .collect()
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
            let fail = move |message: String| RuntimeError::Task {
                stage: stage.id,
                shard,
                vertex: id,
                op: v.op.name().into(),
                message,
            };
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
            let stream = self.operator(&v.op, out_schema, shard, vertex_inputs, fail)?;
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

/// Per-vertex inclusive time and rows of one shard's streams, when `SKADI_PROFILE` is set:
/// the shard then reports each vertex's own time (its stream's time less that of the
/// streamed inputs it pulled) and its output rows.
#[derive(Default)]
struct Profile {
    spent: std::rc::Rc<std::cell::RefCell<HashMap<VertexId, (std::time::Duration, usize)>>>,
}

impl Profile {
    /// Times `inner`'s batches, counting `setup` (making the stream, which may already have
    /// pulled its inputs) as the vertex's too.
    fn wrap<'a>(&self, id: VertexId, setup: std::time::Duration, inner: Stream<'a>) -> Stream<'a> {
        self.spent.borrow_mut().entry(id).or_default().0 += setup;
        let spent = self.spent.clone();
        let mut inner = inner;
        Box::new(std::iter::from_fn(move || {
            let start = std::time::Instant::now();
            let next = inner.next();
            let mut spent = spent.borrow_mut();
            let entry = spent.entry(id).or_default();
            entry.0 += start.elapsed();
            if let Some(Ok(b)) = &next {
                entry.1 += b.num_rows();
            }
            next
        }))
    }

    fn report(&self, plan: &PhysicalPlan, stage: &Stage, shard: usize, kept: &HashMap<VertexId, Vec<RecordBatch>>) {
        let spent = self.spent.borrow();
        let mut lines = String::new();
        for &id in &stage.vertices {
            let v = &plan.vertices[id];
            let (total, rows) = spent.get(&id).copied().unwrap_or_default();
            // Streamed inputs ran inside this vertex's calls; materialized ones did not.
            let nested: std::time::Duration = v
                .inputs
                .iter()
                .filter(|e| !e.partitioning.is_exchange() && !kept.contains_key(&e.from))
                .filter_map(|e| spent.get(&e.from).map(|s| s.0))
                .sum();
            lines.push_str(&format!(
                "profile stage {} shard {shard} #{id} {}: {:.1} ms, {rows} rows\n",
                stage.id,
                v.op.name(),
                total.saturating_sub(nested).as_secs_f64() * 1e3
            ));
        }
        eprint!("{lines}");
    }
}

impl CpuPlan {
    /// The output stream of `op` (producing `out_schema`) on one shard.
    fn operator<'a>(
        &'a self,
        op: &'a Operator,
        out_schema: SchemaRef,
        shard: usize,
        mut inputs: Vec<(Stream<'a>, SchemaRef)>,
        fail: impl Fn(String) -> RuntimeError + Copy + 'a,
    ) -> Result<Stream<'a>, RuntimeError> {
        match op {
            Operator::Scan {
                format,
                columns,
                shards,
                ..
            } => {
                let batches = scan::scan(format, &shards[shard], columns, out_schema).map_err(fail)?;
                return Ok(Box::new(batches.map(move |b| b.map_err(fail))));
            }
            Operator::Fused { steps } => {
                let schemas = step_schemas(steps);
                let mut current = inputs;
                let mut k = 0;
                while k < steps.len() {
                    let step = &steps[k];
                    let piped = schemas[k].clone();
                    let fold = match (steps.get(k + 1), current.as_slice()) {
                        (Some(next), [(_, input)]) => {
                            fold::fold_plan(&step.op, input, &piped, &next.op).map(|f| (f, next))
                        }
                        _ => None,
                    };
                    let stream = match fold {
                        Some((plan, next)) => {
                            k += 1;
                            let input = current.pop().expect("one input");
                            self.folded(&plan, step, next, input, piped, fail)?
                        }
                        None => self.operator(&step.op, piped, shard, current, fail)?,
                    };
                    current = vec![(stream, schemas[k].clone())];
                    k += 1;
                }
                return Ok(current.pop().ok_or_else(|| fail("has no steps".into()))?.0);
            }
            Operator::HashJoin {
                join_kind,
                left_keys,
                right_keys,
                build,
                filter,
                filter_args,
                null_aware,
            } => {
                if inputs.len() != 2 || *build > 1 {
                    return Err(fail("a hash join reads two inputs and builds on one of them".into()));
                }
                let (right, right_schema) = inputs.pop().expect("two inputs");
                let (left, left_schema) = inputs.pop().expect("two inputs");
                let joined = Schema::new(
                    left_schema
                        .fields()
                        .iter()
                        .chain(right_schema.fields().iter())
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                let filter = match filter {
                    Some(_) => Some((
                        self.kernel(op, &joined).map_err(fail)?,
                        column_indices(&joined, filter_args).map_err(fail)?,
                    )),
                    None => None,
                };
                let spec = join::JoinSpec {
                    kind: *join_kind,
                    build: *build,
                    keys: [
                        column_indices(&left_schema, left_keys).map_err(fail)?,
                        column_indices(&right_schema, right_keys).map_err(fail)?,
                    ],
                    filter,
                    null_aware: *null_aware,
                    schemas: [left_schema, right_schema],
                    out_schema,
                };
                let as_strings = |s: Stream<'a>| -> Box<dyn Iterator<Item = Result<RecordBatch, String>> + 'a> {
                    Box::new(s.map(|b| b.map_err(|e| e.to_string())))
                };
                let mut out = Vec::new();
                join::hash_join(&spec, [as_strings(left), as_strings(right)], |b| {
                    out.push(b);
                    Ok(())
                })
                .map_err(fail)?;
                return Ok(Box::new(out.into_iter().map(Ok)));
            }
            _ => {}
        }
        if inputs.len() != 1 {
            return Err(fail(format!("reads {} inputs; {} reads one", inputs.len(), op.name())));
        }
        let (input, in_schema) = inputs.pop().expect("one input");
        Ok(match op {
            Operator::Scan { .. } | Operator::Fused { .. } | Operator::HashJoin { .. } => {
                unreachable!("handled above")
            }
            Operator::StringFunction { function, column, args } => {
                let c = in_schema
                    .index_of(column)
                    .map_err(|_| fail(format!("no input column '{column}'")))?;
                let to = out_schema.field(out_schema.fields().len() - 1).data_type().clone();
                let f = strings::StringFunction::new(function, args).map_err(fail)?;
                Box::new(input.map(move |b| {
                    let b = b?;
                    let value = f.apply(b.column(c), &to).map_err(fail)?;
                    let mut columns = b.columns().to_vec();
                    columns.push(value);
                    batch(&out_schema, columns, b.num_rows()).map_err(fail)
                }))
            }
            Operator::FlatMap {
                function,
                column,
                pattern,
            } => {
                let c = in_schema
                    .index_of(column)
                    .map_err(|_| fail(format!("no input column '{column}'")))?;
                let flat_map = strings::FlatMap::new(function, pattern).map_err(fail)?;
                Box::new(input.map(move |b| flat_map.apply(&b?, c, &out_schema).map_err(fail)))
            }
            Operator::Match {
                column,
                match_kind,
                patterns,
            } => {
                let c = in_schema
                    .index_of(column)
                    .map_err(|_| fail(format!("no input column '{column}'")))?;
                let patterns =
                    strings::Patterns::new(*match_kind, patterns, in_schema.field(c).data_type()).map_err(fail)?;
                Box::new(input.map(move |b| {
                    let b = b?;
                    let matched = patterns.test(b.column(c)).map_err(fail)?;
                    let mut columns = b.columns().to_vec();
                    columns.push(Arc::new(matched));
                    batch(&out_schema, columns, b.num_rows()).map_err(fail)
                }))
            }
            Operator::Filter { args, .. } => {
                let kernel = self.kernel(op, &in_schema).map_err(fail)?;
                let args = column_indices(&in_schema, args).map_err(fail)?;
                Box::new(input.map(move |b| {
                    let b = b?;
                    self.count_call();
                    let keep = eval::selection(kernel, &b, &args).map_err(fail)?;
                    filter_record_batch(&b, &keep).map_err(|e| fail(e.to_string()))
                }))
            }
            Operator::Project { body, args, exprs } => {
                let kernel = match body {
                    Some(_) => Some(self.kernel(op, &in_schema).map_err(fail)?),
                    None => None,
                };
                let args = column_indices(&in_schema, args).map_err(fail)?;
                let picks = picks(&in_schema, exprs).map_err(fail)?;
                Box::new(input.map(move |b| {
                    let b = b?;
                    let computed = match kernel {
                        Some(k) => {
                            self.count_call();
                            eval::evaluate(k, &b, &args, None).map_err(fail)?.0
                        }
                        None => Vec::new(),
                    };
                    let columns = picks
                        .iter()
                        .map(|p| match p {
                            Ok(i) => b.column(*i).clone(),
                            Err(n) => computed[*n].clone(),
                        })
                        .collect();
                    batch(&out_schema, columns, b.num_rows()).map_err(fail)
                }))
            }
            Operator::Pipeline { args, exprs, .. } => {
                let kernel = self.kernel(op, &in_schema).map_err(fail)?;
                let args = column_indices(&in_schema, args).map_err(fail)?;
                let picks = picks(&in_schema, exprs).map_err(fail)?;
                Box::new(input.map(move |b| {
                    self.pipeline_batch(op, kernel, &b?, &args, &picks, &out_schema)
                        .map_err(fail)
                }))
            }
            Operator::Aggregate { mode, keys, aggregates } => {
                let mut agg =
                    aggregate::HashAggregate::new(*mode, keys, aggregates, &in_schema, out_schema).map_err(fail)?;
                for b in input {
                    agg.push(&b?).map_err(fail)?;
                }
                Box::new(std::iter::once(agg.finish().map_err(fail)))
            }
            Operator::Iterate {
                training,
                args,
                strict,
                threads,
                ..
            } => {
                let kernel = self.kernel(op, &in_schema).map_err(fail)?;
                let args = column_indices(&in_schema, args).map_err(fail)?;
                let batches: Vec<RecordBatch> = input.collect::<Result<_, _>>()?;
                self.count_call();
                let row =
                    train::train(kernel, training, &batches, &args, strict, *threads, &out_schema).map_err(fail)?;
                Box::new(std::iter::once(Ok(row)))
            }
            Operator::Sort { keys, fetch } => {
                let batches: Vec<RecordBatch> = input.collect::<Result<_, _>>()?;
                Box::new(std::iter::once(
                    order::sort(&in_schema, &batches, keys, *fetch).map_err(fail),
                ))
            }
            Operator::Limit { skip, fetch } => {
                let mut limit = order::Limit {
                    skip: *skip,
                    fetch: *fetch,
                };
                Box::new(input.map_while(move |b| match b {
                    Ok(b) => limit.apply(b).map(Ok),
                    Err(e) => Some(Err(e)),
                }))
            }
            Operator::Sink { names } => {
                let schema = order::sink_schema(&in_schema, names);
                let mut batches: Vec<RecordBatch> = Vec::new();
                for b in input {
                    let b = b?;
                    if b.num_rows() > 0 {
                        batches.push(
                            RecordBatch::try_new(schema.clone(), b.columns().to_vec())
                                .map_err(|e| fail(e.to_string()))?,
                        );
                    }
                }
                if batches.is_empty() {
                    batches.push(RecordBatch::new_empty(schema));
                }
                Box::new(batches.into_iter().map(Ok))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skadi_common::{AggregateCall, AggregateFunction, AggregateMode, Step, types::ColumnType};

    fn column(name: &str, ty: ColumnType, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty,
            nullable,
        }
    }

    /// A scan of decimals `a`, `b`, `c` and `k` (`nullable` says whether `c` may be NULL),
    /// a pipeline whose body reads `a` and `b` and which passes `b`, `c` and `k` on, and
    /// a partial sum of `c` grouped by `k`: which scan columns are read as Decimal64.
    fn narrowed(nullable: bool) -> Vec<String> {
        let d = ColumnType::Decimal(15, 2);
        let scanned = vec![
            column("a", d, false),
            column("b", d, false),
            column("c", d, nullable),
            column("k", d, false),
        ];
        let piped = vec![
            column("x", ColumnType::Float64, false),
            column("b", d, false),
            column("c", d, nullable),
            column("k", d, false),
        ];
        let steps = [
            Step {
                op: Operator::Scan {
                    table: "t".into(),
                    format: "parquet".into(),
                    columns: vec!["a".into(), "b".into(), "c".into(), "k".into()],
                    shards: vec![],
                },
                schema: scanned,
            },
            Step {
                op: Operator::Pipeline {
                    body: "f".into(),
                    args: vec!["a".into(), "b".into()],
                    exprs: vec![
                        ProjectExpr::Body(0),
                        ProjectExpr::Column("b".into()),
                        ProjectExpr::Column("c".into()),
                        ProjectExpr::Column("k".into()),
                    ],
                    keep: None,
                    strict: vec![vec![0, 1]],
                },
                schema: piped,
            },
            Step {
                op: Operator::Aggregate {
                    mode: AggregateMode::Partial,
                    keys: vec!["k".into()],
                    aggregates: vec![AggregateCall {
                        function: AggregateFunction::Sum,
                        input: Some("c".into()),
                    }],
                },
                schema: vec![column("k", d, false), column("__sum", ColumnType::Float64, true)],
            },
        ];
        let schemas = step_schemas(&steps);
        schemas[0]
            .fields()
            .iter()
            .filter(|f| matches!(f.data_type(), arrow::datatypes::DataType::Decimal64(15, 2)))
            .map(|f| f.name().clone())
            .collect()
    }

    #[test]
    fn a_fused_scan_narrows_the_decimals_only_compiled_code_reads() {
        // `a`: only the body reads it. `b`: the body reads it, but it is passed on as a
        // column. `c`: passed on, and summed by the fold, which sees no NULL. `k`: a key.
        assert_eq!(narrowed(false), ["a", "c"]);
        // A NULL may send a batch the unfolded way, where the aggregate reads `c` itself.
        assert_eq!(narrowed(true), ["a"]);
    }

    #[test]
    fn string_matches_between_the_scan_and_the_pipeline_pass_narrow_decimals_on() {
        let d = ColumnType::Decimal(15, 2);
        let scanned = vec![column("s", ColumnType::Utf8, false), column("a", d, false)];
        let mut matched = scanned.clone();
        matched.push(column("m", ColumnType::Bool, false));
        let steps = [
            Step {
                op: Operator::Scan {
                    table: "t".into(),
                    format: "parquet".into(),
                    columns: vec!["s".into(), "a".into()],
                    shards: vec![],
                },
                schema: scanned,
            },
            Step {
                op: Operator::Match {
                    column: "s".into(),
                    match_kind: skadi_common::MatchKind::Eq,
                    patterns: vec!["x".into()],
                },
                schema: matched,
            },
            Step {
                op: Operator::Pipeline {
                    body: "f".into(),
                    args: vec!["m".into(), "a".into()],
                    exprs: vec![ProjectExpr::Body(1)],
                    keep: Some(0),
                    strict: vec![vec![0], vec![1]],
                },
                schema: vec![column("x", ColumnType::Float64, false)],
            },
        ];
        let schemas = step_schemas(&steps);
        for schema in &schemas[..2] {
            let a = schema.field_with_name("a").unwrap();
            assert_eq!(a.data_type(), &arrow::datatypes::DataType::Decimal64(15, 2));
        }
    }
}
