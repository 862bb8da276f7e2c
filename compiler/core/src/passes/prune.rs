//! `prune-columns`: every vertex produces only the columns something downstream reads,
//! and sources read only those from their files. Needed columns flow backwards from the
//! sink (which reads all of its input); then, forwards, sources drop file columns,
//! projections, maps and pipelines drop outputs, aggregates drop unread aggregate calls,
//! and filter, sort, limit and exchange take their input's narrower type (a window its
//! input's, then its calls'). No vertex is
//! pruned to zero columns (a row count still needs rows).

use super::Pass;
use skadi_common::{
    Aggregate, Choice, Compare, Concat, Exchange, Filter, FlatMap, Iterate, Join, Map, Match, Pick, Pipeline, Project,
    ProjectExpr, Schema, Sort, Source, StringFunction, TopK, Values, Window,
};
use skadi_flowgraph::{FlowGraph, FlowGraphError, OpKind, string_array};
use std::collections::BTreeSet;

pub(crate) struct PruneColumns;

/// Indices of `schema`'s columns to keep: the needed ones, or the first if none is.
fn kept(schema: &Schema, needed: &BTreeSet<String>) -> Vec<usize> {
    let keep: Vec<usize> = (0..schema.len())
        .filter(|&i| needed.contains(&schema[i].name))
        .collect();
    if keep.is_empty() && !schema.is_empty() {
        vec![0]
    } else {
        keep
    }
}

impl Pass for PruneColumns {
    fn name(&self) -> &'static str {
        "prune-columns"
    }

    fn summary(&self) -> &'static str {
        "read and produce only the columns downstream vertices use"
    }

    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError> {
        let view = graph.view()?;
        let n = view.ops.len();
        let mut needed: Vec<BTreeSet<String>> = vec![BTreeSet::new(); n];
        for i in (0..n).rev() {
            let op = &view.ops[i];
            let out = needed[i].clone();
            let Some(&input) = op.inputs.first() else { continue };
            let reads: Vec<String> = match &op.kind {
                OpKind::Sink(_) => view.ops[input].schema.iter().map(|c| c.name.clone()).collect(),
                OpKind::Filter(Filter { args, .. }) => out.iter().cloned().chain(args.iter().cloned()).collect(),
                OpKind::Sort(Sort { keys }) | OpKind::TopK(TopK { keys, .. }) => out
                    .iter()
                    .cloned()
                    .chain(keys.iter().map(|k| k.column.clone()))
                    .collect(),
                OpKind::Limit(_) | OpKind::Exchange(_) => {
                    let mut r: Vec<String> = out.iter().cloned().collect();
                    if let OpKind::Exchange(Exchange { keys, .. }) = &op.kind {
                        r.extend(keys.iter().cloned());
                    }
                    r
                }
                OpKind::Project(Project { columns }) => {
                    kept(&op.schema, &out).into_iter().map(|k| columns[k].clone()).collect()
                }
                OpKind::Map(Map { args, exprs, .. }) | OpKind::Pipeline(Pipeline { args, exprs, .. }) => {
                    let mut r = args.clone();
                    for k in kept(&op.schema, &out) {
                        if let ProjectExpr::Column(c) = &exprs[k] {
                            r.push(c.clone());
                        }
                    }
                    r
                }
                OpKind::Aggregate {
                    aggregate: Aggregate { keys, aggregates },
                    ..
                } => {
                    let calls = kept(&op.schema, &out).into_iter().filter(|&k| k >= keys.len());
                    let mut r = keys.clone();
                    r.extend(calls.filter_map(|k| aggregates[k - keys.len()].input.clone()));
                    r
                }
                OpKind::Match(Match { column, .. }) | OpKind::StringFunction(StringFunction { column, .. }) => {
                    let appended = &op.schema.last().expect("a match appends a column").name;
                    let mut r: Vec<String> = out.iter().filter(|c| *c != appended).cloned().collect();
                    r.push(column.clone());
                    r
                }
                OpKind::Pick(Pick { choices, .. }) | OpKind::Concat(Concat { parts: choices, .. }) => {
                    let appended = &op.schema.last().expect("a pick appends a column").name;
                    let mut r: Vec<String> = out.iter().filter(|c| *c != appended).cloned().collect();
                    if let OpKind::Pick(Pick { index, .. }) = &op.kind {
                        r.extend(index.iter().cloned());
                    }
                    r.extend(choices.iter().filter_map(|c| match c {
                        Choice::Column(c) => Some(c.clone()),
                        Choice::Literal(_) => None,
                    }));
                    r
                }
                OpKind::Compare(Compare { left, right, .. }) => {
                    let appended = &op.schema.last().expect("a compare appends a column").name;
                    let mut r: Vec<String> = out.iter().filter(|c| *c != appended).cloned().collect();
                    r.extend([left.clone(), right.clone()]);
                    r
                }
                OpKind::Window(Window {
                    partition_by,
                    order_by,
                    calls,
                }) => {
                    // Every call stays (dropping unread ones is for later).
                    let passed = &op.schema[..op.schema.len() - calls.len()];
                    let mut r: Vec<String> = out
                        .iter()
                        .filter(|c| passed.iter().any(|p| p.name == **c))
                        .cloned()
                        .collect();
                    r.extend(partition_by.iter().cloned());
                    r.extend(order_by.iter().map(|k| k.column.clone()));
                    r.extend(calls.iter().filter_map(|c| c.input.clone()));
                    r
                }
                OpKind::FlatMap(FlatMap { column, .. }) => {
                    let appended = &op.schema.last().expect("a flat map appends a column").name;
                    let mut r: Vec<String> = out.iter().filter(|c| *c != appended).cloned().collect();
                    r.push(column.clone());
                    r
                }
                OpKind::Iterate(Iterate { args, .. }) => args.clone(),
                OpKind::Join(Join {
                    left_keys,
                    right_keys,
                    filter_args,
                    ..
                }) => {
                    // Each name belongs to one side (the verifier checks they are distinct).
                    let reads = out.iter().chain(left_keys).chain(right_keys).chain(filter_args);
                    for name in reads {
                        if let Some(&side) = op
                            .inputs
                            .iter()
                            .find(|&&k| view.ops[k].schema.iter().any(|c| &c.name == name))
                        {
                            needed[side].insert(name.clone());
                        }
                    }
                    continue;
                }
                OpKind::Source(_) | OpKind::Values(_) => unreachable!("sources and values have no input"),
                // Positions, not names, tie a union's inputs to its result: it keeps
                // every column of each (pruning through it is for later).
                OpKind::Union(_) => {
                    for &k in &op.inputs {
                        needed[k].extend(view.ops[k].schema.iter().map(|c| c.name.clone()));
                    }
                    continue;
                }
            };
            needed[input].extend(reads);
        }
        // Forwards: narrow each vertex, given its input's new schema.
        let mut schemas: Vec<Schema> = Vec::with_capacity(n);
        let mut changed = false;
        for (i, op) in view.ops.iter().enumerate() {
            let keep = kept(&op.schema, &needed[i]);
            let narrowed: Schema = keep.iter().map(|&k| op.schema[k].clone()).collect();
            let pick = |items: &[String]| -> String {
                string_array(&keep.iter().map(|&k| items[k].clone()).collect::<Vec<_>>())
            };
            let (schema, attribute) = match &op.kind {
                OpKind::Sink(_) => (Schema::new(), None),
                // A model's row is fixed by its kind: every column stays; so does a union's.
                OpKind::Iterate(_) | OpKind::Union(_) => (op.schema.clone(), None),
                OpKind::Filter(_) | OpKind::Sort(_) | OpKind::TopK(_) | OpKind::Limit(_) | OpKind::Exchange(_) => {
                    (schemas[op.inputs[0]].clone(), None)
                }
                OpKind::Join(Join { join_kind: kind, .. }) => {
                    let mut schema = schemas[op.inputs[0]].clone();
                    if kind.outputs_right() {
                        schema.extend(schemas[op.inputs[1]].iter().cloned());
                    }
                    // Outer joins make the padded side's columns nullable.
                    for c in &mut schema {
                        c.nullable |= op.schema.iter().any(|o| o.name == c.name && o.nullable);
                    }
                    (schema, None)
                }
                OpKind::Match(_)
                | OpKind::StringFunction(_)
                | OpKind::Pick(_)
                | OpKind::Concat(_)
                | OpKind::Compare(_) => {
                    let mut schema = schemas[op.inputs[0]].clone();
                    schema.push(op.schema.last().expect("a match appends a column").clone());
                    (schema, None)
                }
                OpKind::Window(Window { calls, .. }) => {
                    let mut schema = schemas[op.inputs[0]].clone();
                    schema.extend(op.schema[op.schema.len() - calls.len()..].iter().cloned());
                    (schema, None)
                }
                OpKind::FlatMap(FlatMap { column, .. }) => {
                    let mut schema: Schema = schemas[op.inputs[0]]
                        .iter()
                        .filter(|c| c.name != *column)
                        .cloned()
                        .collect();
                    schema.push(op.schema.last().expect("a flat map appends a column").clone());
                    (schema, None)
                }
                OpKind::Source(Source { columns, .. }) => (narrowed, Some(("columns", pick(columns)))),
                OpKind::Project(Project { columns }) => (narrowed, Some(("columns", pick(columns)))),
                OpKind::Values(Values { rows }) => {
                    let rows = rows
                        .iter()
                        .map(|r| keep.iter().map(|&k| r[k].clone()).collect())
                        .collect();
                    let texts = Values { rows }.row_texts();
                    (narrowed, Some(("rows", string_array(&texts))))
                }
                OpKind::Map(Map { exprs, .. }) | OpKind::Pipeline(Pipeline { exprs, .. }) => {
                    let exprs: Vec<String> = exprs.iter().map(|e| e.to_string()).collect();
                    (narrowed, Some(("exprs", pick(&exprs))))
                }
                OpKind::Aggregate {
                    aggregate: Aggregate { keys, aggregates },
                    ..
                } => {
                    let keep: Vec<usize> = (0..keys.len())
                        .chain(keep.iter().copied().filter(|&k| k >= keys.len()))
                        .collect();
                    let calls: Vec<String> = keep
                        .iter()
                        .filter(|&&k| k >= keys.len())
                        .map(|&k| aggregates[k - keys.len()].to_string())
                        .collect();
                    let schema = keep.iter().map(|&k| op.schema[k].clone()).collect();
                    (schema, Some(("aggregates", string_array(&calls))))
                }
            };
            if !matches!(op.kind, OpKind::Sink(_)) && schema != op.schema {
                changed = true;
                graph.set_schema(i, &schema)?;
                if let Some((name, text)) = attribute {
                    graph.set_attribute(i, name, &text)?;
                }
            }
            schemas.push(schema);
        }
        Ok(changed)
    }
}
