//! The embedding API: one session per catalog. [`Session::compile_source`] is the one
//! entry from any source (SQL, Substrait plan, job spec, pipeline spec, FlowGraph
//! module, saved plan) to a physical plan, [`Session::compile_logical_plan`] the entry
//! for an engine's own DataFusion plan; [`Session::run_plan`] runs a plan on the
//! registered backends.

use crate::{Error, ModelInfo, Source, SourceKind};
use arrow::{datatypes::SchemaRef, record_batch::RecordBatch};
use skadi_backend_cpu::CpuBackend;
use skadi_catalog::Catalog;
use skadi_common::PhysicalPlan;
use skadi_compiler::{
    DeviceProfile, LoweringOptions, builtin_profiles, lower,
    passes::{OptLevel, PassManager, PassRun},
};
use skadi_flowgraph::FlowGraph;
use skadi_runtime::{Backend, BackendSet, Backends, LocalExecutor, Progress};
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

/// A catalog and the settings to compile and run against it.
pub struct Session {
    catalog: Catalog,
    catalog_dir: PathBuf,
    workers: usize,
    opt_level: OptLevel,
    /// Passes chosen by name, replacing the level's pipeline.
    passes: Option<Vec<String>>,
    /// Device profiles for the cost model (built-in unless replaced).
    profiles: Vec<DeviceProfile>,
    /// The backends plans run on: the CPU, and any other registered.
    backends: Backends,
    /// The CPU backend (also in `backends`), for its counters and lowered code.
    cpu: CpuBackend,
    /// DataFusion's planning session for the catalog, made at the first SQL query.
    planner: std::sync::OnceLock<skadi_sql::Planner>,
}

/// A source after its frontend and the session's passes: the optimized FlowGraph and,
/// for a spec, where its result goes.
pub struct Optimized {
    pub flowgraph: FlowGraph,
    /// What each optimization pass did, in order.
    pub passes: Vec<PassRun>,
    /// The output file a job or pipeline spec names, if any.
    pub output: Option<PathBuf>,
    /// The model a pipeline's last step trains, if it does.
    pub model: Option<ModelInfo>,
}

/// A source compiled down to its physical plan, with what it came from.
pub struct Compiled {
    /// The optimized FlowGraph module (`print_with_locations` gives its text); `None`
    /// for a saved plan.
    pub flowgraph: Option<FlowGraph>,
    pub plan: PhysicalPlan,
    /// What each optimization pass did, in order.
    pub passes: Vec<PassRun>,
    /// The output file a job or pipeline spec names, if any.
    pub output: Option<PathBuf>,
    /// The model a pipeline's last step trains, if it does.
    pub model: Option<ModelInfo>,
}

/// Rows and what it took to get them.
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub tasks: usize,
    pub elapsed: Duration,
}

impl Session {
    /// Opens the catalog directory (see `skadi_catalog`); workers default to the CPUs.
    pub fn open(catalog_dir: impl AsRef<Path>) -> Result<Session, Error> {
        let dir = catalog_dir.as_ref();
        Ok(Session::with_catalog(Catalog::open(dir)?, dir.to_path_buf()))
    }

    /// A session with no tables: enough for sources that name their files themselves
    /// (specs, FlowGraph modules, saved plans).
    pub fn without_catalog() -> Session {
        Session::with_catalog(Catalog::default(), PathBuf::new())
    }

    fn with_catalog(catalog: Catalog, catalog_dir: PathBuf) -> Session {
        let cpu = CpuBackend::new();
        Session {
            catalog,
            catalog_dir,
            workers: LoweringOptions::default().workers,
            opt_level: OptLevel::default(),
            passes: None,
            profiles: builtin_profiles(),
            backends: Backends::new().with(Arc::new(cpu.clone())),
            cpu,
            planner: std::sync::OnceLock::new(),
        }
    }

    /// Caps the parallelism of every vertex, and the worker threads, at `workers`.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Whether a plan reuses native code compiled for the same bodies by an earlier plan
    /// of this session (the default), or compiles its own.
    pub fn with_code_reuse(mut self, reuse: bool) -> Self {
        self.cpu = CpuBackend::new().with_code_reuse(reuse);
        self.backends.register(Arc::new(self.cpu.clone()));
        self
    }

    /// Registers another backend (or replaces the one of its name): lowering may then
    /// give it vertices its device profile says it runs, and plans naming it run on it.
    pub fn with_backend(mut self, backend: Arc<dyn Backend>) -> Self {
        self.backends.register(backend);
        self
    }

    /// The optimization level: its pass pipeline, and whether lowering fuses vertices.
    pub fn with_opt_level(mut self, level: OptLevel) -> Self {
        self.opt_level = level;
        self
    }

    /// Runs exactly these passes, in order, instead of the level's pipeline.
    pub fn with_passes(mut self, passes: Vec<String>) -> Self {
        self.passes = Some(passes);
        self
    }

    /// Uses `profile` for its backend in the cost model, replacing the built-in one (or
    /// adding a backend the built-ins lack).
    pub fn with_device_profile(mut self, profile: DeviceProfile) -> Self {
        self.profiles.retain(|p| p.backend != profile.backend);
        self.profiles.push(profile);
        self
    }

    pub fn device_profiles(&self) -> &[DeviceProfile] {
        &self.profiles
    }

    /// The backends plans can run on in this session.
    pub fn registered_backends(&self) -> Vec<String> {
        self.backends.names()
    }

    pub fn opt_level(&self) -> OptLevel {
        self.opt_level
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The CPU backend this session runs plans on (its counters, its lowered code).
    pub fn backend(&self) -> &CpuBackend {
        &self.cpu
    }

    pub fn catalog_dir(&self) -> &Path {
        &self.catalog_dir
    }

    /// The optimized DataFusion logical plan the SQL frontend translates, indented.
    pub fn logical_plan(&self, sql: &str, source_name: &str) -> Result<String, Error> {
        let plan = self
            .planner()
            .and_then(|p| p.logical_plan(sql))
            .map_err(|error| self.sql_error(sql, source_name, error))?;
        Ok(format!("{}\n", plan.display_indent_schema()))
    }

    fn planner(&self) -> Result<&skadi_sql::Planner, skadi_sql::SqlError> {
        if let Some(p) = self.planner.get() {
            return Ok(p);
        }
        let planner = skadi_sql::Planner::new(&self.catalog)?;
        Ok(self.planner.get_or_init(|| planner))
    }

    fn sql_error(&self, sql: &str, source_name: &str, error: skadi_sql::SqlError) -> Error {
        Error::Sql {
            source_name: source_name.to_string(),
            text: sql.to_string(),
            position: error.position,
            error,
        }
    }

    /// SQL → verified FlowGraph, before any pass. `source_name` names the text in
    /// locations and errors.
    pub fn flowgraph(&self, sql: &str, source_name: &str) -> Result<FlowGraph, Error> {
        let text = self
            .planner()
            .and_then(|p| p.compile(sql, source_name, &self.catalog))
            .map_err(|error| self.sql_error(sql, source_name, error))?;
        Ok(FlowGraph::parse(&text, source_name)?)
    }

    /// A DataFusion logical plan (an embedding engine's, or one from Substrait) →
    /// verified FlowGraph, before any pass. Its table scans must name the catalog's
    /// tables; DataFusion's optimizer runs over it first, as over SQL.
    pub fn flowgraph_from_logical_plan(
        &self,
        plan: &skadi_sql::LogicalPlan,
        source_name: &str,
    ) -> Result<FlowGraph, Error> {
        let text = self
            .planner()
            .and_then(|p| p.compile_plan(plan, source_name, &self.catalog))
            .map_err(|error| self.sql_error("", source_name, error))?;
        Ok(FlowGraph::parse(&text, source_name)?)
    }

    /// A DataFusion logical plan → FlowGraph → passes → physical plan.
    pub fn compile_logical_plan(&self, plan: &skadi_sql::LogicalPlan, source_name: &str) -> Result<Compiled, Error> {
        let mut flowgraph = self.flowgraph_from_logical_plan(plan, source_name)?;
        let passes = self.optimize(&mut flowgraph, |_, _| {})?;
        Ok(Compiled {
            plan: self.lower(&flowgraph)?,
            flowgraph: Some(flowgraph),
            passes,
            output: None,
            model: None,
        })
    }

    /// A Substrait plan (its JSON form, as [`Source::substrait`] keeps it) → verified
    /// FlowGraph, before any pass.
    fn flowgraph_from_substrait(&self, json: &str, source_name: &str) -> Result<FlowGraph, Error> {
        let plan = self
            .planner()
            .and_then(|p| skadi_substrait::to_logical_plan(p, &skadi_substrait::decode(json.as_bytes())?))
            .map_err(|error| self.sql_error(json, source_name, error))?;
        self.flowgraph_from_logical_plan(&plan, source_name)
    }

    /// SQL → its Substrait plan (DataFusion's optimized plan, subqueries decorrelated),
    /// as protobuf bytes or JSON: what another engine or accelerator takes.
    pub fn substrait(
        &self,
        sql: &str,
        source_name: &str,
        encoding: skadi_substrait::Encoding,
    ) -> Result<Vec<u8>, Error> {
        let plan = self
            .planner()
            .and_then(|p| skadi_substrait::from_sql(p, sql))
            .map_err(|error| self.sql_error(sql, source_name, error))?;
        Ok(skadi_substrait::encode(&plan, encoding))
    }

    /// A source through its frontend and the session's passes; `after` sees the graph
    /// after each pass (for `--print-after-all`). Paths in specs resolve against the
    /// current directory. A saved plan has no FlowGraph: see [`Session::compile_source`].
    pub fn optimized(&self, source: &Source, after: impl FnMut(&str, &FlowGraph)) -> Result<Optimized, Error> {
        let (text, name) = (&source.text, &source.name);
        let spec_error = |error| Error::Job {
            text: text.clone(),
            error,
        };
        let (mut flowgraph, output, model) = match source.kind {
            SourceKind::Sql => (self.flowgraph(text, name)?, None, None),
            SourceKind::Substrait => (self.flowgraph_from_substrait(text, name)?, None, None),
            SourceKind::Job => {
                let job = skadi_mapreduce::compile_job(text, name).map_err(spec_error)?;
                (FlowGraph::parse(&job.flowgraph, name)?, job.output, None)
            }
            SourceKind::Pipeline => {
                let p = skadi_pipeline::compile_pipeline(text, name).map_err(spec_error)?;
                (FlowGraph::parse(&p.flowgraph, name)?, p.output, p.model)
            }
            SourceKind::FlowGraph => (FlowGraph::parse(text, name)?, None, None),
            SourceKind::Plan => {
                return Err(Error::Other(format!(
                    "{name}: a physical plan is past the FlowGraph; compile a query, spec or FlowGraph module instead"
                )));
            }
        };
        let passes = self.optimize(&mut flowgraph, after)?;
        Ok(Optimized {
            flowgraph,
            passes,
            output,
            model,
        })
    }

    /// Any source → its physical plan: through its frontend, the session's passes and
    /// lowering, or (a saved plan) read and checked. `after` sees the graph after each
    /// pass.
    pub fn compile_source(&self, source: &Source, after: impl FnMut(&str, &FlowGraph)) -> Result<Compiled, Error> {
        if source.kind == SourceKind::Plan {
            // A plan from outside is checked against its files before anything runs.
            let plan = PhysicalPlan::from_json(&source.text, &source.name)?;
            skadi_compiler::check_files(&plan).map_err(|message| {
                Error::Plan(skadi_common::PlanError::Inconsistent {
                    path: source.name.clone(),
                    message,
                })
            })?;
            return Ok(Compiled {
                flowgraph: None,
                plan,
                passes: Vec::new(),
                output: None,
                model: None,
            });
        }
        let o = self.optimized(source, after)?;
        Ok(Compiled {
            plan: self.lower(&o.flowgraph)?,
            flowgraph: Some(o.flowgraph),
            passes: o.passes,
            output: o.output,
            model: o.model,
        })
    }

    /// SQL → FlowGraph → passes → physical plan.
    pub fn compile(&self, sql: &str, source_name: &str) -> Result<Compiled, Error> {
        self.compile_source(&Source::sql(sql, source_name), |_, _| {})
    }

    /// Compiles and runs one SQL query.
    pub fn sql(&self, sql: &str, source_name: &str) -> Result<QueryResult, Error> {
        let compiled = self.compile(sql, source_name)?;
        self.run_plan(&compiled.plan, None)
    }

    /// Compiles and runs a MapReduce job spec (docs/JOB_SPEC.md); returns the rows and
    /// the file its `[output] path` names (writing them there is the caller's choice: see
    /// [`crate::write_result`]).
    pub fn job(&self, spec: &str, source_name: &str) -> Result<(QueryResult, Option<PathBuf>), Error> {
        let compiled = self.compile_source(&Source::new(SourceKind::Job, spec, source_name), |_, _| {})?;
        Ok((self.run_plan(&compiled.plan, None)?, compiled.output))
    }

    /// Compiles and runs a pipeline spec (docs/PIPELINE_SPEC.md); returns the last
    /// step's rows (for a train step, the model's row: see [`crate::model_json`]) and
    /// what it produces (an output file, a model).
    pub fn pipeline(&self, spec: &str, source_name: &str) -> Result<(QueryResult, Compiled), Error> {
        let compiled = self.compile_source(&Source::new(SourceKind::Pipeline, spec, source_name), |_, _| {})?;
        Ok((self.run_plan(&compiled.plan, None)?, compiled))
    }

    /// Runs the session's passes over `graph`; `after` sees it after each pass.
    pub fn optimize(&self, graph: &mut FlowGraph, after: impl FnMut(&str, &FlowGraph)) -> Result<Vec<PassRun>, Error> {
        let manager = match &self.passes {
            Some(names) => PassManager::new(names)?,
            None => PassManager::for_level(self.opt_level),
        };
        Ok(manager.run(graph, after)?)
    }

    /// FlowGraph (optimized or not) → physical plan.
    pub fn lower(&self, graph: &FlowGraph) -> Result<PhysicalPlan, Error> {
        let options = LoweringOptions {
            workers: self.workers,
            fuse: self.opt_level.fuses_vertices(),
            profiles: self.profiles.clone(),
            backends: self.registered_backends(),
        };
        Ok(lower(&*graph.view()?, &options)?)
    }

    /// Runs a physical plan on the embedded runtime, each stage on the backend its
    /// vertices name; a plan naming a backend this session has not registered is refused
    /// before any task runs.
    pub fn run_plan(&self, plan: &PhysicalPlan, progress: Option<Progress>) -> Result<QueryResult, Error> {
        let mut out = LocalExecutor::new(self.workers).run(plan, &self.backends, progress)?;
        let schema = match out.batches.first() {
            Some(b) => b.schema(),
            // No batch at all: an empty result, of the output vertex's columns.
            None => {
                let schema = std::sync::Arc::new(skadi_common::to_arrow_schema(&plan.vertices[plan.output].schema));
                out.batches.push(RecordBatch::new_empty(schema.clone()));
                schema
            }
        };
        Ok(QueryResult {
            schema,
            batches: out.batches,
            tasks: out.tasks,
            elapsed: out.elapsed,
        })
    }
}
