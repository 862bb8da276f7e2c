//! MLIR contexts with every upstream dialect registered and the `flow` dialect loaded.

use melior::{
    Context,
    dialect::DialectRegistry,
    ir::Module,
    utility::{load_irdl_dialects, register_all_dialects, register_all_llvm_translations},
};

/// The IRDL definition of the `flow` dialect.
pub const FLOW_IRDL: &str = include_str!("flow.irdl.mlir");

/// A context in which FlowGraph modules parse and verify. The returned module holds the
/// IRDL definition and must outlive every FlowGraph module of the context.
pub fn new_context() -> (Context, Module<'static>) {
    let registry = DialectRegistry::new();
    register_all_dialects(&registry);
    let context = Context::new_with_registry(&registry, false);
    for name in ["builtin", "func", "arith", "math", "scf", "irdl"] {
        context.get_or_load_dialect(name);
    }
    register_all_llvm_translations(&context);
    let dialect = Module::parse(&context, FLOW_IRDL).expect("the flow IRDL definition parses");
    assert!(load_irdl_dialects(&dialect), "the flow IRDL definition loads");
    // SAFETY: the module is owned by the caller together with the context and dropped
    // before it (see `FlowGraph`); the 'static only erases that pairing from the type.
    let dialect = unsafe { std::mem::transmute::<Module<'_>, Module<'static>>(dialect) };
    (context, dialect)
}
