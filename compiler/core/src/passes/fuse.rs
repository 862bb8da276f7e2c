//! `fuse`: vertex fusion. A chain of row-wise vertices (filter, map, project, pipeline),
//! each read only by the next, becomes one `flow.pipeline` whose body is one function:
//! a new `func.func` calls the chain's bodies in order, MLIR's inliner folds them into it,
//! and canonicalization and CSE clean up across the former vertex boundaries (in a
//! module of its own, so the rest of the graph is not rewritten again). Filters
//! become one predicate result (their conjunction), kept rows are chosen once, and
//! intermediate columns never materialize.
//!
//! NULLs stay exact: each body was strict in its own arguments, so the pipeline records,
//! per result, which of its arguments make it NULL (`strict`). The conjunction of filters
//! is NULL-strict in the union of their arguments, which is what dropping a row whose
//! predicate is NULL needs.
//!
//! Across the border into training: a row-wise vertex read only by a `flow.iterate`
//! (whatever frontend wrote either) joins the iterate's step body, so a SQL projection
//! feeding a gradient or assignment step is computed inside it, and a filter zeroes the
//! sums of the rows it drops.

use super::Pass;
use super::rewrite_until_done;
use skadi_common::{Column, Fault, Filter, Iterate, Map, Pipeline, Project, ProjectExpr, ml::ModelKind};
use skadi_flowgraph::{FlowGraph, FlowGraphError, GraphView, NewOp, OpKind, index_lists, quote, string_array};
use std::collections::BTreeSet;
use std::fmt::Write;

pub(crate) struct Fuse;

/// Run over the composed function and copies of the bodies it calls: folds the calls in
/// and cleans up across the former vertex boundaries.
const FUSED_BODY_PIPELINE: &str = "builtin.module(inline{default-pipeline=},canonicalize,cse)";

/// Row-wise ops fuse; a self-contained pipeline does not (its body computes NULLs from
/// its args' validity, which a fused body does not have for computed values, or it
/// fails on rows it drops).
fn row_wise(kind: &OpKind) -> bool {
    match kind {
        OpKind::Filter(_) | OpKind::Map(_) | OpKind::Project(_) => true,
        OpKind::Pipeline(p) => !p.self_contained(),
        _ => false,
    }
}

/// A pipeline that can fail ends a chain: its faults are then all after the chain's
/// filters, on the rows it keeps (so a fold or a kept-rows branch, which compute kept
/// rows only, miss none).
fn fails(kind: &OpKind) -> bool {
    matches!(kind, OpKind::Pipeline(Pipeline { fault: Some(_), .. }))
}

/// The first chain of two or more row-wise vertices, each read only by the next.
fn find_chain(view: &GraphView) -> Option<Vec<usize>> {
    let mut readers = vec![Vec::new(); view.ops.len()];
    for (i, op) in view.ops.iter().enumerate() {
        for &j in &op.inputs {
            readers[j].push(i);
        }
    }
    let sole_row_wise_reader = |i: usize| match readers[i].as_slice() {
        [r] if row_wise(&view.ops[*r].kind) => Some(*r),
        _ => None,
    };
    for (start, op) in view.ops.iter().enumerate() {
        if !row_wise(&op.kind) {
            continue;
        }
        let input = op.inputs[0];
        if row_wise(&view.ops[input].kind) && sole_row_wise_reader(input) == Some(start) {
            continue; // not the chain's first vertex
        }
        let mut chain = vec![start];
        while !fails(&view.ops[*chain.last().expect("not empty")].kind)
            && let Some(next) = sole_row_wise_reader(*chain.last().expect("not empty"))
        {
            chain.push(next);
        }
        if chain.len() >= 2 {
            return Some(chain);
        }
    }
    None
}

/// A row-wise vertex read only by a `flow.iterate`: (the vertex, the iterate). Fusing
/// it makes the training step compute its features itself, once per row per pass,
/// instead of reading a materialized table.
fn find_training_input(view: &GraphView) -> Option<(usize, usize)> {
    let readers = super::reader_counts(view);
    view.ops.iter().enumerate().find_map(|(i, op)| match &op.kind {
        // k-means without given centroids starts from its input's first rows, which must
        // then exist as a table.
        OpKind::Iterate(Iterate { training, .. })
            if training.model == ModelKind::Kmeans && training.init.is_empty() =>
        {
            None
        }
        OpKind::Iterate(_) => {
            let input = op.inputs[0];
            let kind = &view.ops[input].kind;
            (row_wise(kind) && !fails(kind) && readers[input] == 1).then_some((input, i))
        }
        _ => None,
    })
}

/// A column while composing: an input column passed through, an argument of the fused
/// body, or an SSA value computed in it.
#[derive(Clone)]
enum Value {
    Input(String),
    Arg(usize),
    Ssa {
        name: String,
        ty: String,
        deps: BTreeSet<usize>,
    },
}

struct Composer<'a> {
    view: &'a GraphView,
    /// The chain's input schema.
    input: &'a [Column],
    /// The fused body's arguments: input column names and body scalar types.
    args: Vec<(String, String)>,
    lines: String,
    next: usize,
    /// The bodies called, each once.
    called: BTreeSet<String>,
}

impl Composer<'_> {
    /// A new SSA name for the composed body.
    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("%c{}", self.next - 1)
    }

    fn arg(&mut self, column: &str, ty: &str) -> usize {
        if let Some(i) = self.args.iter().position(|(c, _)| c == column) {
            return i;
        }
        self.args.push((column.to_string(), ty.to_string()));
        self.args.len() - 1
    }

    /// `v` as a value the body can use: input columns become arguments on first use.
    fn operand(&mut self, v: Value) -> Value {
        match v {
            Value::Input(column) => {
                let ty = self
                    .input
                    .iter()
                    .find(|c| c.name == column)
                    .and_then(|c| c.ty.body_scalar())
                    .expect("the verifier checked that bodies take only body-typed columns");
                Value::Arg(self.arg(&column, ty))
            }
            v => v,
        }
    }

    fn ssa(&self, v: &Value) -> String {
        match v {
            Value::Arg(i) => format!("%arg{i}"),
            Value::Ssa { name, .. } => name.clone(),
            Value::Input(_) => unreachable!("inputs are made operands first"),
        }
    }

    fn ty(&self, v: &Value) -> String {
        match v {
            Value::Arg(i) => self.args[*i].1.clone(),
            Value::Ssa { ty, .. } => ty.clone(),
            Value::Input(_) => unreachable!("inputs are made operands first"),
        }
    }

    fn deps(&self, v: &Value) -> BTreeSet<usize> {
        match v {
            Value::Arg(i) => BTreeSet::from([*i]),
            Value::Ssa { deps, .. } => deps.clone(),
            Value::Input(_) => unreachable!("inputs are made operands first"),
        }
    }

    /// Calls `body` on `values`; returns its results, each strict in `strict[r]` of the
    /// values (all of them when `strict` is `None`).
    fn call(&mut self, body: &str, values: &[Value], strict: Option<&[Vec<usize>]>, at: &str) -> Vec<Value> {
        let b = &self.view.bodies[body];
        self.called.insert(body.to_string());
        let name = self.fresh();
        let operands: Vec<String> = values.iter().map(|v| self.ssa(v)).collect();
        let _ = writeln!(
            self.lines,
            "    {name}:{} = func.call @{body}({}) : ({}) -> ({}) {at}",
            b.results.len(),
            operands.join(", "),
            b.params.join(", "),
            b.results.join(", ")
        );
        let all: Vec<usize> = (0..values.len()).collect();
        (0..b.results.len())
            .map(|r| {
                let on = strict.map_or(all.as_slice(), |s| s[r].as_slice());
                let deps = on.iter().flat_map(|&a| self.deps(&values[a])).collect();
                Value::Ssa {
                    name: format!("{name}#{r}"),
                    ty: b.results[r].clone(),
                    deps,
                }
            })
            .collect()
    }

    fn and(&mut self, a: &Value, b: &Value) -> Value {
        let name = self.fresh();
        let _ = writeln!(
            self.lines,
            "    {name} = arith.andi {}, {} : i1",
            self.ssa(a),
            self.ssa(b)
        );
        Value::Ssa {
            name,
            ty: "i1".into(),
            deps: self.deps(a).union(&self.deps(b)).copied().collect(),
        }
    }
}

/// Fuses `chain` in place, into one `flow.pipeline`, or with `into` (a `flow.iterate`
/// reading the chain's end) into that iterate's step body.
fn fuse(graph: &mut FlowGraph, view: &GraphView, chain: &[usize], into: Option<usize>) -> Result<(), FlowGraphError> {
    let first = &view.ops[chain[0]];
    let input = first.inputs[0];
    let in_schema = &view.ops[input].schema;
    let mut c = Composer {
        view,
        input: in_schema,
        args: Vec::new(),
        lines: String::new(),
        next: 0,
        called: BTreeSet::new(),
    };
    // The current columns, by name, as the chain transforms them.
    let mut env: Vec<(String, Value)> = in_schema
        .iter()
        .map(|col| (col.name.clone(), Value::Input(col.name.clone())))
        .collect();
    let lookup = |env: &[(String, Value)], name: &str| -> Value {
        env.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .expect("the verifier checked every column a vertex names")
    };
    let mut keep: Option<Value> = None;
    // The last vertex's fault, on the rows the filters before it keep.
    let mut fault: Option<(Value, String)> = None;
    for &i in chain {
        let op = &view.ops[i];
        let names: Vec<String> = op.schema.iter().map(|col| col.name.clone()).collect();
        let at = mlir_location(op.location.as_deref());
        match &op.kind {
            OpKind::Filter(Filter { body, args }) => {
                let values: Vec<Value> = args.iter().map(|a| c.operand(lookup(&env, a))).collect();
                let p = c.call(body, &values, None, &at).remove(0);
                keep = Some(match keep {
                    Some(k) => c.and(&k, &p),
                    None => p,
                });
            }
            OpKind::Project(Project { columns }) => {
                env = names
                    .into_iter()
                    .zip(columns)
                    .map(|(n, col)| (n, lookup(&env, col)))
                    .collect();
            }
            OpKind::Map(Map { body, args, exprs }) | OpKind::Pipeline(Pipeline { body, args, exprs, .. }) => {
                let values: Vec<Value> = args.iter().map(|a| c.operand(lookup(&env, a))).collect();
                let strict = match &op.kind {
                    OpKind::Pipeline(Pipeline { strict, .. }) => Some(strict.as_slice()),
                    _ => None,
                };
                let results = c.call(body, &values, strict, &at);
                if let OpKind::Pipeline(Pipeline {
                    fault: Some(Fault { result, what, .. }),
                    ..
                }) = &op.kind
                {
                    let f = results[*result].clone();
                    let f = match &keep {
                        Some(k) => c.and(k, &f),
                        None => f,
                    };
                    fault = Some((f, what.clone()));
                }
                if let OpKind::Pipeline(Pipeline { keep: Some(k), .. }) = &op.kind {
                    let p = results[*k].clone();
                    keep = Some(match keep {
                        Some(prev) => c.and(&prev, &p),
                        None => p,
                    });
                }
                env = names
                    .into_iter()
                    .zip(exprs)
                    .map(|(n, e)| {
                        let v = match e {
                            ProjectExpr::Body(r) => results[*r].clone(),
                            ProjectExpr::Column(col) => lookup(&env, col),
                        };
                        (n, v)
                    })
                    .collect();
            }
            _ => unreachable!("chains hold row-wise vertices only"),
        }
    }
    if let Some(consumer) = into {
        return fuse_into_step(graph, view, c, &env, keep, input, consumer);
    }
    // Output columns: input columns pass through by their input name; the rest are results.
    let last = &view.ops[*chain.last().expect("not empty")];
    let mut results: Vec<Value> = Vec::new();
    let mut exprs: Vec<String> = Vec::new();
    for (_, v) in &env {
        match v {
            Value::Input(column) => exprs.push(column.clone()),
            Value::Arg(i) => exprs.push(c.args[*i].0.clone()),
            Value::Ssa { .. } => {
                exprs.push(format!("${}", results.len()));
                results.push(v.clone());
            }
        }
    }
    let keep_index = keep.as_ref().map(|k| {
        results.push(k.clone());
        results.len() - 1
    });
    let fault = fault.map(|(f, what)| {
        results.push(f);
        Fault {
            result: results.len() - 1,
            what,
            kept: keep_index.is_some(),
        }
    });
    let end = *chain.last().expect("not empty");
    if results.is_empty() {
        // Nothing computed survives and nothing is filtered: the chain only picks and
        // renames columns, which one project does.
        let new = NewOp {
            name: "flow.project".into(),
            inputs: vec![input],
            attributes: vec![("columns".into(), string_array(&exprs))],
            schema: Some(last.schema.clone()),
        };
        return graph.replace(&new, end, end);
    }
    let strict: Vec<Vec<usize>> = results.iter().map(|v| c.deps(v).into_iter().collect()).collect();
    let name = add_composed(graph, view, &c, &results, first.location.as_deref())?;
    let arg_names: Vec<String> = c.args.iter().map(|(n, _)| n.clone()).collect();
    let mut new = NewOp {
        name: "flow.pipeline".into(),
        inputs: vec![input],
        attributes: vec![
            ("body".into(), format!("@{name}")),
            ("args".into(), string_array(&arg_names)),
            ("exprs".into(), string_array(&exprs)),
            ("keep".into(), format!("{} : i64", keep_index.map_or(-1, |k| k as i64))),
            ("strict".into(), index_lists(&strict)),
        ],
        schema: Some(last.schema.clone()),
    };
    if let Some(f) = &fault {
        new.attributes.push(("fault".into(), format!("{} : i64", f.result)));
        new.attributes.push(("fault_what".into(), quote(&f.what)));
        if f.kept {
            new.attributes.push(("fault_kept".into(), "unit".into()));
        }
    }
    graph.replace(&new, end, end)
}

/// Adds the function `c` composed, returning `results`; returns its name.
fn add_composed(
    graph: &mut FlowGraph,
    view: &GraphView,
    c: &Composer,
    results: &[Value],
    location: Option<&str>,
) -> Result<String, FlowGraphError> {
    let name = graph.fresh_symbol("fused");
    let at = mlir_location(location);
    let params: Vec<String> = c
        .args
        .iter()
        .enumerate()
        .map(|(i, (_, t))| format!("%arg{i}: {t} {at}"))
        .collect();
    let values: Vec<String> = results.iter().map(|v| c.ssa(v)).collect();
    let types: Vec<String> = results.iter().map(|v| c.ty(v)).collect();
    // The chain's bodies are declared so the new function verifies on its own.
    let mut declarations = String::new();
    for name in &c.called {
        let b = &view.bodies[name];
        let _ = writeln!(
            declarations,
            "  func.func private @{name}({}) -> ({})",
            b.params.join(", "),
            b.results.join(", ")
        );
    }
    let text = format!(
        "module {{\n{declarations}  func.func private @{name}({}) -> ({}) {{\n{}    return {} : {} {at}\n  }} {at}\n}}\n",
        params.join(", "),
        types.join(", "),
        c.lines,
        values.join(", "),
        types.join(", ")
    );
    graph.add_function(&text, &name, Some(FUSED_BODY_PIPELINE))?;
    Ok(name)
}

/// Ends a fusion into training step `consumer`: the composed body computes the step's
/// columns from the chain's input, calls the step with them and the state (the composed
/// body's last parameters), and zeroes every sum of a row the chain would have dropped.
/// A row is skipped where an argument that a step column or the predicate is strict in
/// is NULL, as it would have been skipped (or dropped) before.
fn fuse_into_step(
    graph: &mut FlowGraph,
    view: &GraphView,
    mut c: Composer,
    env: &[(String, Value)],
    keep: Option<Value>,
    input: usize,
    consumer: usize,
) -> Result<(), FlowGraphError> {
    let op = &view.ops[consumer];
    let OpKind::Iterate(Iterate {
        training,
        body,
        args,
        strict,
    }) = &op.kind
    else {
        unreachable!("fusion into a step is asked for iterate ops only")
    };
    let at = mlir_location(op.location.as_deref());
    let lookup = |name: &str| -> Value {
        env.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .expect("the verifier checked every column a vertex names")
    };
    let mut values: Vec<Value> = args.iter().map(|a| c.operand(lookup(a))).collect();
    let mut skipped_on: BTreeSet<usize> = BTreeSet::new();
    for (i, v) in values.iter().enumerate() {
        if strict.contains(&i) {
            skipped_on.extend(c.deps(v));
        }
    }
    if let Some(k) = &keep {
        skipped_on.extend(c.deps(k));
    }
    let columns = c.args.len();
    for s in 0..training.state_len() {
        values.push(Value::Arg(c.arg(&format!("__state{s}"), "f64")));
    }
    let mut sums = c.call(body, &values, Some(&vec![Vec::new(); training.sums()]), &at);
    if let Some(k) = &keep {
        let zero = c.fresh();
        let _ = writeln!(c.lines, "    {zero} = arith.constant 0.0 : f64 {at}");
        for s in &mut sums {
            let name = c.fresh();
            let _ = writeln!(
                c.lines,
                "    {name} = arith.select {}, {}, {zero} : f64 {at}",
                c.ssa(k),
                c.ssa(s)
            );
            *s = Value::Ssa {
                name,
                ty: "f64".into(),
                deps: BTreeSet::new(),
            };
        }
    }
    let name = add_composed(graph, view, &c, &sums, op.location.as_deref())?;
    let arg_names: Vec<String> = c.args[..columns].iter().map(|(n, _)| n.clone()).collect();
    let strict_names: Vec<String> = skipped_on.iter().map(|&i| c.args[i].0.clone()).collect();
    let init: Vec<String> = training.init.iter().map(|v| format!("{v:?}")).collect();
    let new = NewOp {
        name: "flow.iterate".into(),
        inputs: vec![input],
        attributes: vec![
            ("model".into(), quote(training.model.name())),
            ("method".into(), quote(training.method.name())),
            ("body".into(), format!("@{name}")),
            ("args".into(), string_array(&arg_names)),
            ("strict".into(), string_array(&strict_names)),
            ("options".into(), string_array(&training.options())),
            ("init".into(), string_array(&init)),
        ],
        schema: Some(op.schema.clone()),
    };
    graph.replace(&new, consumer, consumer)
}

/// `file:line:col` as an MLIR location.
fn mlir_location(location: Option<&str>) -> String {
    let parsed = location.and_then(|l| {
        let mut parts = l.rsplitn(3, ':');
        let (col, line, file) = (parts.next()?, parts.next()?, parts.next()?);
        Some(format!(
            "loc({}:{}:{})",
            quote(file),
            line.parse::<u32>().ok()?,
            col.parse::<u32>().ok()?
        ))
    });
    parsed.unwrap_or_else(|| "loc(unknown)".into())
}

impl Pass for Fuse {
    fn name(&self) -> &'static str {
        "fuse"
    }

    fn summary(&self) -> &'static str {
        "fuse chains of filter/map/project into one pipeline vertex with one body"
    }

    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError> {
        let chains = rewrite_until_done(graph, find_chain, |graph, view, chain| fuse(graph, view, &chain, None))?;
        let steps = rewrite_until_done(graph, find_training_input, |graph, view, (producer, step)| {
            fuse(graph, view, &[producer], Some(step))
        })?;
        Ok(chains || steps)
    }
}
