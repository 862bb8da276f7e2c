//! The embedding API: one session per catalog.

use crate::Error;
use arrow::{datatypes::SchemaRef, record_batch::RecordBatch};
use skadi_backend_cpu::CpuBackend;
use skadi_catalog::Catalog;
use skadi_common::PhysicalPlan;
use skadi_compiler::{
    DeviceProfile, LoweringOptions, builtin_profiles, lower,
    passes::{OptLevel, PassManager, PassRun},
};
use skadi_flowgraph::FlowGraph;
use skadi_pipeline::Pipeline;
use skadi_runtime::{Backend, BackendSet, Backends, LocalExecutor, Progress};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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

/// A query compiled down to its physical plan, with the FlowGraph text it came from.
pub struct Compiled {
    /// The optimized FlowGraph module (`print_with_locations` gives its text).
    pub flowgraph: FlowGraph,
    pub plan: PhysicalPlan,
    /// What each optimization pass did, in order.
    pub passes: Vec<PassRun>,
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
        let cpu = CpuBackend::new();
        Ok(Session {
            catalog: Catalog::open(dir)?,
            catalog_dir: dir.to_path_buf(),
            workers: LoweringOptions::default().workers,
            opt_level: OptLevel::default(),
            passes: None,
            profiles: builtin_profiles(),
            backends: Backends::new().with(Arc::new(cpu.clone())),
            cpu,
            planner: std::sync::OnceLock::new(),
        })
    }

    /// A session with no tables: enough to run saved physical plans, which name their files.
    pub fn without_catalog() -> Session {
        let cpu = CpuBackend::new();
        Session {
            catalog: Catalog::default(),
            catalog_dir: PathBuf::new(),
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

    /// SQL → verified FlowGraph. `source_name` names the text in locations and errors.
    pub fn flowgraph(&self, sql: &str, source_name: &str) -> Result<FlowGraph, Error> {
        let text = self
            .planner()
            .and_then(|p| p.compile(sql, source_name, &self.catalog))
            .map_err(|error| self.sql_error(sql, source_name, error))?;
        Ok(FlowGraph::parse(&text, source_name)?)
    }

    /// A MapReduce job spec (docs/JOB_SPEC.md) → verified FlowGraph, and the file its
    /// `[output] path` names, if any. Input paths resolve against the current directory.
    pub fn job_flowgraph(&self, spec: &str, source_name: &str) -> Result<(FlowGraph, Option<PathBuf>), Error> {
        let job = skadi_mapreduce::compile_job(spec, source_name).map_err(|error| Error::Job {
            text: spec.to_string(),
            error,
        })?;
        Ok((FlowGraph::parse(&job.flowgraph, source_name)?, job.output))
    }

    /// Compiles and runs a MapReduce job spec; the rows are returned (writing them to
    /// the spec's output file is the caller's choice: see [`crate::write_result`]).
    pub fn job(&self, spec: &str, source_name: &str) -> Result<(QueryResult, Option<PathBuf>), Error> {
        let (graph, output) = self.job_flowgraph(spec, source_name)?;
        Ok((self.optimize_and_run(graph)?, output))
    }

    /// A pipeline spec (docs/PIPELINE_SPEC.md) → one verified FlowGraph, and what its
    /// last step produces (an output file, a model). Paths resolve against the current
    /// directory.
    pub fn pipeline_flowgraph(&self, spec: &str, source_name: &str) -> Result<(FlowGraph, Pipeline), Error> {
        let pipeline = skadi_pipeline::compile_pipeline(spec, source_name).map_err(|error| Error::Job {
            text: spec.to_string(),
            error,
        })?;
        Ok((FlowGraph::parse(&pipeline.flowgraph, source_name)?, pipeline))
    }

    /// Compiles and runs a pipeline spec; returns the last step's rows (for a train step,
    /// the model's row: see [`crate::model_json`]).
    pub fn pipeline(&self, spec: &str, source_name: &str) -> Result<(QueryResult, Pipeline), Error> {
        let (graph, pipeline) = self.pipeline_flowgraph(spec, source_name)?;
        Ok((self.optimize_and_run(graph)?, pipeline))
    }

    fn optimize_and_run(&self, mut graph: FlowGraph) -> Result<QueryResult, Error> {
        self.optimize(&mut graph, |_, _| {})?;
        let plan = self.lower(&graph)?;
        self.run_plan(&plan, None)
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

    /// SQL → FlowGraph → passes → physical plan.
    pub fn compile(&self, sql: &str, source_name: &str) -> Result<Compiled, Error> {
        let mut graph = self.flowgraph(sql, source_name)?;
        let passes = self.optimize(&mut graph, |_, _| {})?;
        let plan = self.lower(&graph)?;
        Ok(Compiled {
            flowgraph: graph,
            plan,
            passes,
        })
    }

    /// Runs a physical plan on the embedded runtime, each stage on the backend its
    /// vertices name; a plan naming a backend this session has not registered is refused
    /// before any task runs.
    pub fn run_plan(&self, plan: &PhysicalPlan, progress: Option<Progress>) -> Result<QueryResult, Error> {
        let out = LocalExecutor::new(self.workers).run(plan, &self.backends, progress)?;
        let schema = out
            .batches
            .first()
            .map(|b| b.schema())
            .ok_or_else(|| Error::Other("the plan produced no result batches".into()))?;
        Ok(QueryResult {
            schema,
            batches: out.batches,
            tasks: out.tasks,
            elapsed: out.elapsed,
        })
    }

    /// Compiles and runs one SQL query.
    pub fn sql(&self, sql: &str, source_name: &str) -> Result<QueryResult, Error> {
        let compiled = self.compile(sql, source_name)?;
        self.run_plan(&compiled.plan, None)
    }
}
