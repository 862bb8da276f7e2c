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

/// How a kernel reads one argument column: body scalars in place, and a decimal of
/// precision ≤ 18 (an i64 parameter, its scaled integer) in place from its column's
/// slots, which are 16 bytes wide (Decimal128: the low half is the value) or 8
/// (Decimal64). Wider decimals are i128 parameters, read like any scalar.
pub(crate) type ArgForm = Option<InPlaceDecimal>;

/// A narrow decimal column read in place: whether its slots are 16 bytes wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct InPlaceDecimal {
    pub wide: bool,
}

/// How a kernel reads a column of type `dt`: a decimal whose values fit an i64 by its
/// slots' width.
pub(crate) fn decimal_form(dt: &arrow::datatypes::DataType) -> ArgForm {
    use arrow::datatypes::DataType;
    match dt {
        DataType::Decimal128(p, _) if *p <= 18 => Some(InPlaceDecimal { wide: true }),
        DataType::Decimal64(..) => Some(InPlaceDecimal { wide: false }),
        _ => None,
    }
}

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
    /// A pipeline and the aggregate after it as one loop (see [`fold_kernel_mlir`]).
    pub fold: Option<Fold>,
    /// A predicate kernel (see [`predicate_kernel_mlir`]): only the `guard` result, from
    /// only these arguments (the ones it is strict in).
    pub predicate: Option<Vec<usize>>,
}

/// What a folded kernel accumulates: per aggregate call, into per-group state arrays.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Fold {
    /// Columns read besides the body's arguments (values aggregated as they are): each
    /// one's scalar type and form.
    pub extra: Vec<(String, ArgForm)>,
    /// Rows carry group ids (a keyed aggregate); otherwise every row is group 0.
    pub keyed: bool,
    pub calls: Vec<FoldCall>,
    /// The body's result true where its arithmetic failed: the kernel sets a byte
    /// (its last column) where it is true on any row.
    pub fault: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FoldFunction {
    Sum,
    Avg,
    Min,
    Max,
    Count,
}

/// One aggregate call of a fold: its function, the lane it accumulates in, and the
/// value it reads (none for counts of rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FoldCall {
    pub function: FoldFunction,
    pub lane: FoldLane,
    pub value: Option<FoldValue>,
    /// Whether the call counts its own rows, and sums its own values; not where another
    /// call's count (and sum) is also its own (fold.rs shares them, and the aggregate
    /// copies them at the end).
    pub counted: bool,
    pub summed: bool,
}

/// What a fold accumulates a call's values as (the aggregate's lanes, aggregate.rs):
/// floats in f64, integers in i64, decimals' scaled integers in i128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FoldLane {
    F64,
    I64,
    I128,
}

impl FoldLane {
    fn mlir(self) -> &'static str {
        match self {
            FoldLane::F64 => "f64",
            FoldLane::I64 => "i64",
            FoldLane::I128 => "i128",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FoldValue {
    /// The body's result n.
    Result(usize),
    /// Extra column n.
    Extra(usize),
}

impl KernelSpec {
    /// The kernel's symbol: `{body}__kernel`, with the decimals' slot widths.
    pub fn symbol(&self) -> String {
        let mut name = format!("{}__kernel", self.body);
        if self.forms.iter().any(Option::is_some) {
            let forms: Vec<String> = self
                .forms
                .iter()
                .map(|f| f.map_or("x".to_string(), |d| if d.wide { "d" } else { "dn" }.to_string()))
                .collect();
            name = format!("{name}_{}", forms.join("_"));
        }
        if let Some(g) = self.guard {
            name = format!("{name}_g{g}");
        }
        if let Some(reads) = &self.predicate {
            let reads: Vec<String> = reads.iter().map(usize::to_string).collect();
            name = format!("{name}_p{}", reads.join("_"));
        }
        if let Some(n) = self.reduce {
            name = format!("{name}_sum{n}");
        }
        if let Some(fold) = &self.fold {
            // Distinct folds of one body (other calls, columns or keys) get distinct names.
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            fold.hash(&mut h);
            name = format!("{name}_fold{:016x}", h.finish());
        }
        name
    }
}

/// Whether `spec` fits a body of signature `params -> results`: the kernel forms below
/// index both by what the spec holds, and the spec comes from a plan (which may come
/// from outside).
pub(crate) fn check_spec(spec: &KernelSpec, params: &[String], results: &[String]) -> Result<(), String> {
    let body = &spec.body;
    let arguments = spec.reduce.unwrap_or(params.len());
    if spec.forms.len() != arguments || arguments > params.len() {
        return Err(format!(
            "body @{body} takes {} parameters; it is called with {} columns",
            params.len(),
            spec.forms.len()
        ));
    }
    if results.is_empty() {
        return Err(format!("body @{body} returns nothing"));
    }
    if let Some(g) = spec.guard
        && results.get(g).map(String::as_str) != Some("i1")
    {
        return Err(format!("body @{body} has no boolean result {g} to keep rows by"));
    }
    if spec.predicate.iter().flatten().any(|&r| r >= params.len()) {
        return Err(format!("body @{body}'s predicate reads a parameter it does not have"));
    }
    if let Some(fold) = &spec.fold {
        let values = fold.calls.iter().filter_map(|c| c.value);
        for v in values {
            let ok = match v {
                FoldValue::Result(n) => n < results.len(),
                FoldValue::Extra(e) => e < fold.extra.len(),
            };
            if !ok {
                return Err(format!("a fold over body @{body} reads a value it does not have"));
            }
        }
    }
    Ok(())
}

/// MLIR for the kernel `spec` of a body whose signature is `params -> results` (which
/// [`check_spec`] has checked the spec against).
pub(crate) fn kernel_mlir(spec: &KernelSpec, params: &[String], results: &[String]) -> String {
    if let Some(reads) = &spec.predicate {
        return predicate_kernel_mlir(spec, reads, params, results);
    }
    if let Some(rows) = spec.reduce {
        return reduce_kernel_mlir(spec, rows, params, results);
    }
    if let Some(fold) = &spec.fold {
        return fold_kernel_mlir(spec, fold, params, results);
    }
    let mut k = String::new();
    let w = &mut k;
    open_kernel(w, &spec.symbol(), 0..params.len() + results.len());
    let _ = writeln!(w, "    scf.for %i = %c0 to %n step %c1 {{");
    let _ = writeln!(w, "      %row = arith.index_cast %i : index to i64");
    let args = load_row(w, "      ", 0, params, &spec.forms);
    call_body(w, &spec.body, &args, params, results);
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
    open_kernel(w, &spec.symbol(), 0..row_params + 2);
    let _ = writeln!(w, "    %zero = arith.constant 0.0 : f64");
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
    call_body(w, &spec.body, &args, params, &vec!["f64".to_string(); r]);
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

/// Writes a kernel's opening: its signature, the loop's bounds (`%c0`, `%c1`, `%n`) and
/// the pointers `%col{j}` of `columns`.
fn open_kernel(w: &mut String, symbol: &str, columns: impl IntoIterator<Item = usize>) {
    let _ = writeln!(w, "  func.func @{symbol}(%rows: i64, %columns: !llvm.ptr) {{");
    let _ = writeln!(w, "    %c0 = arith.constant 0 : index");
    let _ = writeln!(w, "    %c1 = arith.constant 1 : index");
    let _ = writeln!(w, "    %n = arith.index_cast %rows : i64 to index");
    for j in columns {
        let _ = writeln!(
            w,
            "    %slot{j} = llvm.getelementptr %columns[{j}] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr"
        );
        let _ = writeln!(w, "    %col{j} = llvm.load %slot{j} : !llvm.ptr -> !llvm.ptr");
    }
}

/// Writes the call of `body` on `args` in a kernel's loop: its results are `%r#0...`.
fn call_body(w: &mut String, body: &str, args: &[String], params: &[String], results: &[String]) {
    let _ = writeln!(
        w,
        "      %r:{} = func.call @{body}({}) : ({}) -> ({})",
        results.len(),
        args.join(", "),
        params.join(", "),
        results.join(", ")
    );
}

/// Writes the loads of row `%row` from columns `first..` (of body scalar types `scalars`,
/// read with `forms`: a decimal in place is its scaled integer, from the low half of a
/// 16-byte slot or widened from an 8-byte one, as the scalar type says); returns the loaded
/// values' SSA names.
fn load_row(w: &mut String, indent: &str, first: usize, scalars: &[String], forms: &[ArgForm]) -> Vec<String> {
    let mut args = Vec::new();
    for (k, p) in scalars.iter().enumerate() {
        let j = first + k;
        let decimal = forms.get(k).copied().flatten();
        let m = match decimal {
            Some(d) if d.wide => "i128",
            Some(_) => "i64",
            None => memory_type(p),
        };
        let _ = writeln!(
            w,
            "{indent}%a{j} = llvm.getelementptr inbounds %col{j}[%row] : (!llvm.ptr, i64) -> !llvm.ptr, {m}"
        );
        let _ = writeln!(w, "{indent}%m{j} = llvm.load %a{j} : !llvm.ptr -> {m}");
        if decimal.is_some() && m != p.as_str() {
            // A 16-byte slot's low half, or an 8-byte slot widened.
            let op = if m == "i128" { "arith.trunci" } else { "arith.extsi" };
            let _ = writeln!(w, "{indent}%v{j} = {op} %m{j} : {m} to {p}");
            args.push(format!("%v{j}"));
        } else if p == "i1" {
            let _ = writeln!(w, "{indent}%v{j} = arith.trunci %m{j} : i8 to i1");
            args.push(format!("%v{j}"));
        } else {
            args.push(format!("%m{j}"));
        }
    }
    args
}

/// A pipeline folded into the partial (or single-step) aggregate after it. The backend
/// first lists the rows the pipeline keeps (with its predicate kernel, which reads only
/// the predicate's columns) and finds their group ids; this kernel then, in one loop over
/// that list, calls the body on each kept row and adds it into its group's states: the
/// pipeline's results, the kept rows' copies and the aggregate's per-call loops are never
/// made, and columns only the other results read are read for kept rows only. Its
/// columns: the body's arguments, the extra value columns, the kept rows (u32 indices;
/// `%rows` counts them), the rows' group ids (i64, by row; read only when keyed), then per
/// call its group arrays: f64 values, integer values, i64 counts; then, if the body can
/// fail, a byte it sets where it did. NULLs are not handled here:
/// the backend calls it on batches whose columns it reads have none.
fn fold_kernel_mlir(spec: &KernelSpec, fold: &Fold, params: &[String], results: &[String]) -> String {
    let mut k = String::new();
    let w = &mut k;
    let p = params.len();
    let extra_scalars: Vec<String> = fold.extra.iter().map(|(t, _)| t.clone()).collect();
    let extra_forms: Vec<ArgForm> = fold.extra.iter().map(|(_, f)| *f).collect();
    let selection = p + fold.extra.len();
    let ids = selection + 1;
    let state = |call: usize, which: usize| ids + 1 + 3 * call + which;
    let columns = ids + 1 + 3 * fold.calls.len();
    let flag = columns;
    let columns = columns + usize::from(fold.fault.is_some());
    open_kernel(w, &spec.symbol(), 0..columns);
    let _ = writeln!(w, "    %zero = arith.constant 0 : i64");
    let _ = writeln!(w, "    %one = arith.constant 1 : i64");
    // Only kept rows are listed: the body's predicate holds on each. Whether a row's
    // arithmetic failed is carried through the loop (not stored on every row: the
    // stores to the groups' state could alias the flag's byte) and stored once.
    if fold.fault.is_some() {
        let _ = writeln!(w, "    %no_fault = arith.constant false");
        let _ = writeln!(
            w,
            "    %failed = scf.for %i = %c0 to %n step %c1 iter_args(%failed_before = %no_fault) -> (i1) {{"
        );
    } else {
        let _ = writeln!(w, "    scf.for %i = %c0 to %n step %c1 {{");
    }
    let _ = writeln!(w, "      %k = arith.index_cast %i : index to i64");
    let _ = writeln!(
        w,
        "      %sa = llvm.getelementptr inbounds %col{selection}[%k] : (!llvm.ptr, i64) -> !llvm.ptr, i32"
    );
    let _ = writeln!(w, "      %s = llvm.load %sa : !llvm.ptr -> i32");
    let _ = writeln!(w, "      %row = arith.extui %s : i32 to i64");
    let args = load_row(w, "      ", 0, params, &spec.forms);
    call_body(w, &spec.body, &args, params, results);
    let indent = "      ";
    let extras = load_row(w, indent, p, &extra_scalars, &extra_forms);
    if fold.keyed {
        let _ = writeln!(
            w,
            "{indent}%ga = llvm.getelementptr inbounds %col{ids}[%row] : (!llvm.ptr, i64) -> !llvm.ptr, i64"
        );
        let _ = writeln!(w, "{indent}%g = llvm.load %ga : !llvm.ptr -> i64");
    } else {
        let _ = writeln!(w, "{indent}%g = arith.addi %zero, %zero : i64");
    }
    // Adds one to the i64 at column `col`'s group slot.
    let bump = |w: &mut String, name: &str, col: usize| {
        let _ = writeln!(
            w,
            "{indent}%{name}p = llvm.getelementptr inbounds %col{col}[%g] : (!llvm.ptr, i64) -> !llvm.ptr, i64"
        );
        let _ = writeln!(w, "{indent}%{name} = llvm.load %{name}p : !llvm.ptr -> i64");
        // Not `%{name}1`: count 1's would be count 11's name.
        let _ = writeln!(w, "{indent}%{name}_inc = arith.addi %{name}, %one : i64");
        let _ = writeln!(w, "{indent}llvm.store %{name}_inc, %{name}p : i64, !llvm.ptr");
    };
    for (c, call) in fold.calls.iter().enumerate() {
        if call.counted {
            bump(w, &format!("cnt{c}"), state(c, 2));
        }
        let Some(value) = call.value else { continue };
        if call.function == FoldFunction::Count || !call.summed {
            continue;
        }
        let (v, ty) = match value {
            FoldValue::Result(n) => (format!("%r#{n}"), results[n].as_str()),
            FoldValue::Extra(e) => (extras[e].clone(), extra_scalars[e].as_str()),
        };
        let lane = call.lane.mlir();
        let col = state(c, if call.lane == FoldLane::F64 { 0 } else { 1 });
        let conversion = match (lane, ty) {
            _ if lane == ty => None,
            ("f64", "f32") => Some("arith.extf"),
            ("f64", _) => Some("arith.sitofp"),
            _ => Some("arith.extsi"),
        };
        let x = match conversion {
            Some(op) => {
                let _ = writeln!(w, "{indent}%x{c} = {op} {v} : {ty} to {lane}");
                format!("%x{c}")
            }
            None => v,
        };
        let _ = writeln!(
            w,
            "{indent}%sp{c} = llvm.getelementptr inbounds %col{col}[%g] : (!llvm.ptr, i64) -> !llvm.ptr, {lane}"
        );
        let _ = writeln!(w, "{indent}%s{c} = llvm.load %sp{c} : !llvm.ptr -> {lane}");
        let next = match (call.function, lane) {
            (FoldFunction::Sum | FoldFunction::Avg, "f64") => format!("arith.addf %s{c}, {x} : f64"),
            (FoldFunction::Sum | FoldFunction::Avg, _) => format!("arith.addi %s{c}, {x} : {lane}"),
            (FoldFunction::Min, "f64") => format!("arith.minnumf %s{c}, {x} : f64"),
            (FoldFunction::Max, "f64") => format!("arith.maxnumf %s{c}, {x} : f64"),
            (FoldFunction::Min, _) => format!("arith.minsi %s{c}, {x} : {lane}"),
            (FoldFunction::Max, _) => format!("arith.maxsi %s{c}, {x} : {lane}"),
            (FoldFunction::Count, _) => unreachable!("counts hold no values"),
        };
        let _ = writeln!(w, "{indent}%next{c} = {next}");
        let mut stored = format!("%next{c}");
        if matches!(call.function, FoldFunction::Min | FoldFunction::Max) {
            // A group's first value is its minimum (maximum) so far.
            let _ = writeln!(w, "{indent}%first{c} = arith.cmpi eq, %cnt{c}, %zero : i64");
            let _ = writeln!(w, "{indent}%sel{c} = arith.select %first{c}, {x}, %next{c} : {lane}");
            stored = format!("%sel{c}");
        }
        let _ = writeln!(w, "{indent}llvm.store {stored}, %sp{c} : {lane}, !llvm.ptr");
    }
    match fold.fault {
        Some(f) => {
            let _ = writeln!(w, "{indent}%failed_now = arith.ori %failed_before, %r#{f} : i1");
            let _ = writeln!(w, "{indent}scf.yield %failed_now : i1");
            let _ = writeln!(w, "    }}");
            let _ = writeln!(w, "    %fault = arith.extui %failed : i1 to i8");
            let _ = writeln!(w, "    %faults = llvm.load %col{flag} : !llvm.ptr -> i8");
            let _ = writeln!(w, "    %faults_now = arith.ori %faults, %fault : i8");
            let _ = writeln!(w, "    llvm.store %faults_now, %col{flag} : i8, !llvm.ptr");
        }
        None => {
            let _ = writeln!(w, "    }}");
        }
    }
    let _ = writeln!(w, "    return");
    let _ = writeln!(w, "  }}");
    k
}

/// A pipeline's predicate alone, for a scan to filter rows with before it decodes the
/// other columns (late materialization): it loads only the arguments in `reads` (the
/// ones the predicate result is strict in, so the only ones it depends on), passes zeros
/// for the others, and stores the `guard` result. Its columns: one per body argument
/// (those not read may be null), then the predicate's bytes.
fn predicate_kernel_mlir(spec: &KernelSpec, reads: &[usize], params: &[String], results: &[String]) -> String {
    let mut k = String::new();
    let w = &mut k;
    let g = spec.guard.expect("a predicate kernel stores its pipeline's predicate");
    let p = params.len();
    open_kernel(w, &spec.symbol(), reads.iter().copied().chain([p]));
    let mut args = Vec::new();
    for (j, t) in params.iter().enumerate() {
        if !reads.contains(&j) {
            let zero = match t.as_str() {
                "i1" => "false".to_string(),
                t if t.starts_with('f') => format!("0.0 : {t}"),
                t => format!("0 : {t}"),
            };
            let _ = writeln!(w, "    %z{j} = arith.constant {zero}");
        }
    }
    let _ = writeln!(w, "    scf.for %i = %c0 to %n step %c1 {{");
    let _ = writeln!(w, "      %row = arith.index_cast %i : index to i64");
    for j in 0..p {
        if reads.contains(&j) {
            let loaded = load_row(w, "      ", j, &params[j..=j], &spec.forms[j..=j]);
            args.push(loaded[0].clone());
        } else {
            args.push(format!("%z{j}"));
        }
    }
    call_body(w, &spec.body, &args, params, results);
    let _ = writeln!(w, "      %x = arith.extui %r#{g} : i1 to i8");
    let _ = writeln!(
        w,
        "      %o = llvm.getelementptr inbounds %col{p}[%row] : (!llvm.ptr, i64) -> !llvm.ptr, i8"
    );
    let _ = writeln!(w, "      llvm.store %x, %o : i8, !llvm.ptr");
    let _ = writeln!(w, "    }}");
    let _ = writeln!(w, "    return");
    let _ = writeln!(w, "  }}");
    k
}
