//! The vocabulary every Skadi tier shares: column types and schemas (and how they map to
//! Arrow), the operators vertices compute (one payload type each, used by the FlowGraph
//! view and the physical plan alike), and the physical plan — the versioned,
//! self-contained document the compiler writes and the runtime and backends read.
//!
//! This crate must stay a leaf: it knows nothing of MLIR, SQL, kernels or threads, so a
//! worker can deserialize a plan without linking a compiler.

pub mod files;
pub mod ml;
pub mod operators;
pub mod plan;
pub mod types;

pub use operators::*;
pub use plan::{
    Body, Edge, HASH_SCHEME, Operator, PLAN_VERSION, Partitioning, PhysicalPlan, PlanError, Stage, StageId, Step,
    Vertex, VertexId,
};
pub use types::{Column, ColumnType, Schema, TypeError, to_arrow_schema};
