//! The compiler tier: FlowGraph → physical plan. Lowering decides, per vertex, its
//! backend and degree of parallelism (from file and row-group statistics, capped by the
//! worker count) and, per edge, its partitioning (forward, hash on keys, gather); it
//! splits aggregations into partial and final steps around a hash exchange and cuts
//! stages at exchanges (`lower/`). Passes (`passes/`) rewrite FlowGraph before lowering.
//!
//! The compiler reads FlowGraph through its view and writes plain plan data; it never runs
//! anything and knows nothing of SQL.

mod cost;
mod explain;
mod lower;
pub mod passes;
mod render;
mod statistics;

pub use cost::{DeviceProfile, builtin_profiles};
pub use explain::explain;
pub use lower::{LowerError, LoweringOptions, lower};
pub use render::{to_dot, to_html, to_mlir};
pub use statistics::check_files;
