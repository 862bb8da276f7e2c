//! Bodies run as compiled code: the LLVM IR of Q6's kernels is a loop over column buffers,
//! the plan is JIT-compiled once (and not again when it runs again), and kernels are
//! called once per batch, not per row.

use crate::common::{query, tpch};
use skadi::{CpuBackend, LocalExecutor, Session};

#[test]
fn q6_body_is_lowered_to_an_llvm_loop() {
    let session = Session::open(tpch()).unwrap();
    let plan = session.compile(&query("q6"), "q6.sql").unwrap().plan;
    let lowered = session.backend().lower_bodies(&plan).unwrap();
    let ir = &lowered.llvm_ir;
    // At -O2 the filter and the map are one fused body.
    assert!(ir.contains("define void @fused_"), "{ir}");
    // It is folded into the partial aggregate (fold.rs): its predicate alone (result 1),
    // reading arguments 0-2 and not the price, lists the kept rows, and a fold kernel adds
    // their revenue into the sum. Decimal columns are their scaled integers, read in
    // place; only the kernels read them, so the scan decodes them as 64-bit decimals
    // (`dn`), not 128-bit ones. No column is nullable, so the pipeline's plain kernel
    // (for batches with NULLs) is not compiled.
    assert!(ir.contains("__kernel_x_dn_dn_dn_g1_p0_1_2(i64"), "{ir}");
    assert!(ir.contains("__kernel_x_dn_dn_dn_g1_fold"), "{ir}");
    assert!(!ir.contains("__kernel_x_dn_dn_dn_g1(i64"), "{ir}");
    assert!(!ir.contains("sitofp"), "a decimal became a float:\n{ir}");
    // The revenue, a decimal(15,2) times a decimal(15,2), is a decimal(31,4): an i128,
    // summed exactly. The predicate's comparisons and the loop over rows are native
    // LLVM instructions.
    assert!(ir.contains("mul nsw i128") || ir.contains("mul i128"), "{ir}");
    assert!(ir.contains("icmp sge i64") || ir.contains("icmp sgt i64"), "{ir}");
    assert!(ir.contains("icmp slt i64"), "no row loop in\n{ir}");
    assert!(!ir.contains("call "), "the body was not inlined into its kernel:\n{ir}");
    assert!(lowered.llvm_dialect.contains("llvm.func"), "{}", lowered.llvm_dialect);
}

#[test]
fn q6_compiles_once_per_plan_and_calls_kernels_per_batch() {
    let session = Session::open(tpch()).unwrap().with_workers(4);
    let plan = session.compile(&query("q6"), "q6.sql").unwrap().plan;
    let backend = CpuBackend::new();
    let out = LocalExecutor::new(4).run(&plan, &backend, None).unwrap();
    assert_eq!(out.batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    assert_eq!(
        backend.compilations(),
        1,
        "one JIT compilation for the whole plan, all shards"
    );
    let rows = 600_000; // lineitem at SF0.1 holds about 600k rows
    let calls = backend.kernel_calls();
    assert!(calls > 0, "no kernel ran");
    assert!(
        calls < rows / 1000,
        "{calls} kernel calls for ~{rows} rows: called per row, not per batch"
    );
    LocalExecutor::new(4).run(&plan, &backend, None).unwrap();
    assert_eq!(backend.compilations(), 1, "the same plan again reuses its code");
    let o0 = Session::open(tpch())
        .unwrap()
        .with_workers(4)
        .with_opt_level(skadi::OptLevel::O0);
    let unfused = o0.compile(&query("q6"), "q6.sql").unwrap().plan;
    LocalExecutor::new(4).run(&unfused, &backend, None).unwrap();
    assert_eq!(backend.compilations(), 2, "other bodies compile anew");
}
