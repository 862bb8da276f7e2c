//! The CPU backend. Bodies (filter predicates, map expressions) are compiled from their
//! MLIR to native code through the LLVM dialect and MLIR's JIT, once per plan (a plan
//! whose bodies and kernels were compiled before reuses that code), and called once per
//! record batch; handcrafted operators (scan, hash aggregate, join, sort, limit, strings)
//! use arrow-rs and parquet.
//!
//! Where things are: `backend.rs` (what the runtime calls), `code.rs` (the code cache),
//! `planning.rs` (which kernels a plan needs), `kernel.rs` and `jit.rs` (kernel MLIR and
//! its compilation), `eval.rs` (calling a kernel on a batch), `stage.rs` (running a
//! shard's vertices as streams), then one file per operator family: `scan.rs`,
//! `rows.rs` (filter, project, map, pipeline), `fold.rs` (a pipeline folded into its
//! aggregate), `aggregate.rs` (over `keys/`' group ids), `join.rs`, `order.rs` (sort,
//! limit, sink), `strings.rs`, `train.rs`; `slots.rs` is the inline-key hash table joins
//! and group ids share.
//!
//! A backend runs vertices; it never plans, schedules or moves data between stages (the
//! runtime does), and it knows nothing of SQL.

mod aggregate;
mod backend;
mod code;
mod combine;
mod eval;
mod fold;
mod jit;
mod join;
mod kernel;
mod keys;
mod order;
mod planning;
mod profile;
mod rows;
mod scan;
mod sets;
mod slots;
mod stage;
mod string_functions;
mod strings;
mod train;
mod window;

pub use backend::CpuBackend;
pub use jit::LOWERING_PIPELINE;

/// A plan's bodies lowered for the CPU, for inspection (`skadi compile --emit llvm`).
pub struct LoweredBodies {
    /// The kernels module after lowering, in MLIR's LLVM dialect.
    pub llvm_dialect: String,
    /// The same module as LLVM IR: what the JIT compiles to machine code.
    pub llvm_ir: String,
}
