//! The vocabulary every Skadi tier shares: column types and schemas (and how they map to
//! Arrow), and the physical plan — the versioned, self-contained document the compiler
//! writes and the runtime and backends read.
//!
//! This crate must stay a leaf: it knows nothing of MLIR, SQL, kernels or threads, so a
//! worker can deserialize a plan without linking a compiler.

pub mod ml;
pub mod plan;
pub mod types;

pub use plan::{
    AggregateCall, AggregateFunction, AggregateMode, Body, Edge, FLAT_MAP_FUNCTIONS, FileSlice, HASH_SCHEME, JoinKind,
    MatchKind, Operator, PLAN_VERSION, Partitioning, PhysicalPlan, PlanError, ProjectExpr, STRING_FUNCTIONS, SortKey,
    Stage, StageId, Step, TEXT_COLUMNS, Vertex, VertexId,
};
pub use types::{Column, ColumnType, Schema, TypeError, to_arrow_schema};
