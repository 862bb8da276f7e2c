//! Batch kernels around bodies. A body is a function over one row's scalars; its kernel
//! loops over whole column buffers, so it is called once per record batch and LLVM can
//! vectorize the loop. Every kernel has one C signature, whatever the body's:
//!
//! ```c
//! void kernel(int64_t rows, void **columns); // columns = arguments..., then results...
//! ```
//!
//! Booleans cross the boundary as one byte each (`i8` 0/1).

use std::fmt::Write;

/// The memory type of a body scalar in a column buffer.
fn memory_type(scalar: &str) -> &str {
    if scalar == "i1" { "i8" } else { scalar }
}

/// How a kernel reads one argument column: body scalars in place, or (for an f64
/// parameter) a Decimal128 column of that scale, in place, converted in the loop. Only
/// decimals of precision ≤ 18 are read in place (their values fit an i64, whose low half
/// of the 16-byte slot is read); wider ones are converted before the call.
pub(crate) type ArgForm = Option<i8>;

/// A kernel: a body and how it reads each argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct KernelSpec {
    pub body: String,
    pub forms: Vec<ArgForm>,
    /// A pipeline's kept-rows result: the other results are stored only for kept rows, so
    /// LLVM can sink their loads and arithmetic under the branch (a selective predicate
    /// then reads little beyond its own columns).
    pub guard: Option<usize>,
    /// A training step's kernel (see [`reduce_kernel_mlir`]): the body's first `n`
    /// parameters are row columns, the rest the model's state.
    pub reduce: Option<usize>,
}

impl KernelSpec {
    /// The kernel's symbol: `{body}__kernel`, with the decimal scales read in place.
    pub fn symbol(&self) -> String {
        let mut name = format!("{}__kernel", self.body);
        if self.forms.iter().any(Option::is_some) {
            let forms: Vec<String> = self
                .forms
                .iter()
                .map(|f| f.map_or("x".to_string(), |s| format!("d{}", s).replace('-', "m")))
                .collect();
            name = format!("{name}_{}", forms.join("_"));
        }
        if let Some(g) = self.guard {
            name = format!("{name}_g{g}");
        }
        if let Some(n) = self.reduce {
            name = format!("{name}_sum{n}");
        }
        name
    }
}

/// MLIR for the kernel `spec` of a body whose signature is `params -> results`.
pub(crate) fn kernel_mlir(spec: &KernelSpec, params: &[String], results: &[String]) -> String {
    if let Some(rows) = spec.reduce {
        return reduce_kernel_mlir(spec, rows, params, results);
    }
    let body = &spec.body;
    let mut k = String::new();
    let w = &mut k;
    let _ = writeln!(w, "  func.func @{}(%rows: i64, %columns: !llvm.ptr) {{", spec.symbol());
    let _ = writeln!(w, "    %c0 = arith.constant 0 : index");
    let _ = writeln!(w, "    %c1 = arith.constant 1 : index");
    let _ = writeln!(w, "    %n = arith.index_cast %rows : i64 to index");
    for (j, form) in spec.forms.iter().enumerate() {
        if let Some(scale) = form {
            let _ = writeln!(w, "    %div{j} = arith.constant {:?} : f64", 10f64.powi(*scale as i32));
        }
    }
    for j in 0..params.len() + results.len() {
        let _ = writeln!(
            w,
            "    %slot{j} = llvm.getelementptr %columns[{j}] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr"
        );
        let _ = writeln!(w, "    %col{j} = llvm.load %slot{j} : !llvm.ptr -> !llvm.ptr");
    }
    let _ = writeln!(w, "    scf.for %i = %c0 to %n step %c1 {{");
    let _ = writeln!(w, "      %row = arith.index_cast %i : index to i64");
    let mut args = Vec::new();
    for (j, p) in params.iter().enumerate() {
        let decimal = spec.forms.get(j).copied().flatten().is_some();
        let m = if decimal { "i128" } else { memory_type(p) };
        let _ = writeln!(
            w,
            "      %a{j} = llvm.getelementptr inbounds %col{j}[%row] : (!llvm.ptr, i64) -> !llvm.ptr, {m}"
        );
        let _ = writeln!(w, "      %m{j} = llvm.load %a{j} : !llvm.ptr -> {m}");
        if decimal {
            // Exactly `value as f64 / 10^scale`, as eval::decimal_to_f64 computes it.
            let _ = writeln!(w, "      %t{j} = arith.trunci %m{j} : i128 to i64");
            let _ = writeln!(w, "      %f{j} = arith.sitofp %t{j} : i64 to f64");
            let _ = writeln!(w, "      %v{j} = arith.divf %f{j}, %div{j} : f64");
            args.push(format!("%v{j}"));
        } else if p == "i1" {
            let _ = writeln!(w, "      %v{j} = arith.trunci %m{j} : i8 to i1");
            args.push(format!("%v{j}"));
        } else {
            args.push(format!("%m{j}"));
        }
    }
    let _ = writeln!(
        w,
        "      %r:{} = func.call @{body}({}) : ({}) -> ({})",
        results.len(),
        args.join(", "),
        params.join(", "),
        results.join(", ")
    );
    let store = |w: &mut String, i: usize, indent: &str| {
        let r = &results[i];
        let j = params.len() + i;
        let m = memory_type(r);
        let value = if r == "i1" {
            let _ = writeln!(w, "{indent}%x{i} = arith.extui %r#{i} : i1 to i8");
            format!("%x{i}")
        } else {
            format!("%r#{i}")
        };
        let _ = writeln!(
            w,
            "{indent}%o{i} = llvm.getelementptr inbounds %col{j}[%row] : (!llvm.ptr, i64) -> !llvm.ptr, {m}"
        );
        let _ = writeln!(w, "{indent}llvm.store {value}, %o{i} : {m}, !llvm.ptr");
    };
    match spec.guard {
        Some(g) => {
            let _ = writeln!(w, "      scf.if %r#{g} {{");
            for i in (0..results.len()).filter(|&i| i != g) {
                store(w, i, "        ");
            }
            let _ = writeln!(w, "      }}");
            store(w, g, "      ");
        }
        None => {
            for i in 0..results.len() {
                store(w, i, "      ");
            }
        }
    }
    let _ = writeln!(w, "    }}");
    let _ = writeln!(w, "    return");
    let _ = writeln!(w, "  }}");
    k
}

/// A training step's kernel: sums the body's f64 results over the rows. Its columns are
/// the `row_params` argument columns, then a pointer to the state (f64s, the body's other
/// parameters), then one to the sums it writes (one f64 per result). The sums are the
/// loop's carried values, so they stay in registers.
fn reduce_kernel_mlir(spec: &KernelSpec, row_params: usize, params: &[String], results: &[String]) -> String {
    let mut k = String::new();
    let w = &mut k;
    let _ = writeln!(w, "  func.func @{}(%rows: i64, %columns: !llvm.ptr) {{", spec.symbol());
    let _ = writeln!(w, "    %c0 = arith.constant 0 : index");
    let _ = writeln!(w, "    %c1 = arith.constant 1 : index");
    let _ = writeln!(w, "    %zero = arith.constant 0.0 : f64");
    let _ = writeln!(w, "    %n = arith.index_cast %rows : i64 to index");
    for j in 0..row_params + 2 {
        let _ = writeln!(
            w,
            "    %slot{j} = llvm.getelementptr %columns[{j}] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr"
        );
        let _ = writeln!(w, "    %col{j} = llvm.load %slot{j} : !llvm.ptr -> !llvm.ptr");
    }
    let (state, sums) = (row_params, row_params + 1);
    let mut state_args = Vec::new();
    for s in 0..params.len() - row_params {
        let _ = writeln!(
            w,
            "    %sp{s} = llvm.getelementptr inbounds %col{state}[{s}] : (!llvm.ptr) -> !llvm.ptr, f64"
        );
        let _ = writeln!(w, "    %s{s} = llvm.load %sp{s} : !llvm.ptr -> f64");
        state_args.push(format!("%s{s}"));
    }
    let r = results.len();
    let names = |p: &str| (0..r).map(|i| format!("%{p}{i}")).collect::<Vec<_>>();
    let types = vec!["f64"; r].join(", ");
    let inits: Vec<String> = names("acc").iter().map(|a| format!("{a} = %zero")).collect();
    let _ = writeln!(
        w,
        "    %total:{r} = scf.for %i = %c0 to %n step %c1 iter_args({}) -> ({types}) {{",
        inits.join(", ")
    );
    let _ = writeln!(w, "      %row = arith.index_cast %i : index to i64");
    let mut args = Vec::new();
    for (j, p) in params[..row_params].iter().enumerate() {
        let m = memory_type(p);
        let _ = writeln!(
            w,
            "      %a{j} = llvm.getelementptr inbounds %col{j}[%row] : (!llvm.ptr, i64) -> !llvm.ptr, {m}"
        );
        let _ = writeln!(w, "      %m{j} = llvm.load %a{j} : !llvm.ptr -> {m}");
        if p == "i1" {
            let _ = writeln!(w, "      %v{j} = arith.trunci %m{j} : i8 to i1");
            args.push(format!("%v{j}"));
        } else {
            args.push(format!("%m{j}"));
        }
    }
    args.extend(state_args);
    let _ = writeln!(
        w,
        "      %r:{r} = func.call @{}({}) : ({}) -> ({types})",
        spec.body,
        args.join(", "),
        params.join(", ")
    );
    for i in 0..r {
        let _ = writeln!(w, "      %next{i} = arith.addf %acc{i}, %r#{i} : f64");
    }
    let _ = writeln!(w, "      scf.yield {} : {types}", names("next").join(", "));
    let _ = writeln!(w, "    }}");
    for i in 0..r {
        let _ = writeln!(
            w,
            "    %o{i} = llvm.getelementptr inbounds %col{sums}[{i}] : (!llvm.ptr) -> !llvm.ptr, f64"
        );
        let _ = writeln!(w, "    llvm.store %total#{i}, %o{i} : f64, !llvm.ptr");
    }
    let _ = writeln!(w, "    return");
    let _ = writeln!(w, "  }}");
    k
}
