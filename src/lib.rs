//! Skadi: a tiered dataflow compiler. This facade is the library API the `skadi` binary
//! is a thin layer over: a [`Session`] over a catalog compiles SQL to FlowGraph (a
//! verified MLIR module), lowers FlowGraph to a sharded [`PhysicalPlan`], and runs plans
//! on the embedded runtime with the CPU backend.
//!
//! ```no_run
//! let session = skadi::Session::open("data/tpch-sf0.1")?.with_workers(4);
//! let result = session.sql("select count(*) from lineitem", "inline.sql")?;
//! println!("{}", skadi::format_table(&result.batches)?);
//! # Ok::<(), skadi::Error>(())
//! ```

pub mod bench;
pub mod corpus;
mod error;
mod output;
pub mod peer;
mod session;
pub mod tpch;

pub use error::Error;
pub use output::{OutputFormat, format_batches, format_table, write_pipeline_result, write_result};
pub use session::{Compiled, QueryResult, Session};
pub use skadi_ml::model_json;

pub use skadi_backend_cpu::CpuBackend;
pub use skadi_common::{Operator, PLAN_VERSION, PhysicalPlan, operators};
pub use skadi_compiler::{
    DeviceProfile, explain,
    passes::{OptLevel, PassRun, describe as describe_passes, format_timings as format_pass_timings},
    to_dot, to_html, to_mlir,
};
pub use skadi_flowgraph::FlowGraph;
pub use skadi_mapreduce::{JobError, is_job_spec};
pub use skadi_ml::ModelInfo;
pub use skadi_pipeline::{Pipeline, is_pipeline_spec};
pub use skadi_runtime::{LocalExecutor, RunOutput};
