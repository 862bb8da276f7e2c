//! Skadi: a tiered dataflow compiler. This facade is the library API the `skadi` binary
//! is a thin layer over: a [`Session`] over a catalog compiles any [`Source`] (SQL, a
//! Substrait plan, a MapReduce job spec, a pipeline spec, a FlowGraph module, a saved
//! plan) or an engine's DataFusion [`LogicalPlan`] through
//! FlowGraph (a verified MLIR module) to a sharded [`PhysicalPlan`], and runs plans on
//! the embedded runtime with the registered backends (the CPU by default).
//!
//! It holds no compiler or runtime logic of its own: it wires the tiers together, says
//! what went wrong ([`Error`]) and writes results. Data generators and the DataFusion
//! peer are not part of it (crate `skadi-workloads`).
//!
//! ```no_run
//! let session = skadi::Session::open("data/tpch-sf0.1")?.with_workers(4);
//! let result = session.sql("select count(*) from lineitem", "inline.sql")?;
//! println!("{}", skadi::format_table(&result.batches)?);
//! # Ok::<(), skadi::Error>(())
//! ```

mod error;
mod output;
mod session;
mod source;

pub use error::Error;
pub use output::{
    OutputFormat, format_batches, format_table, remove_partial_outputs, write_file, write_pipeline_result, write_result,
};
pub use session::{Compiled, Optimized, QueryResult, Session};
pub use skadi_ml::model_json;
pub use source::{Source, SourceKind};

pub use skadi_backend_cpu::CpuBackend;
pub use skadi_common::{Operator, PLAN_VERSION, PhysicalPlan, operators};
pub use skadi_compiler::{
    DeviceProfile, explain,
    passes::{OptLevel, PassRun, describe as describe_passes, format_timings as format_pass_timings},
    to_dot, to_html, to_mlir,
};
pub use skadi_flowgraph::FlowGraph;
pub use skadi_mapreduce::JobError;
pub use skadi_ml::ModelInfo;
pub use skadi_runtime::{Backend, BackendSet, Backends, LocalExecutor, RunOutput};
pub use skadi_sql::LogicalPlan;
pub use skadi_substrait::Encoding as SubstraitEncoding;
