//! `pushdown-maps`: a map over an inner join's output whose body reads columns of one
//! side only, and consumes more of them than it yields, computes on that side instead.
//!
//! `map_f(A ⋈ B) = A ⋈ map_f'(B)` when `f` reads only `B`'s columns: an inner join pairs
//! rows without changing them, and a body is a pure function of its row. The map over
//! `B` passes all of `B`'s columns on and adds the body's results under fresh names; the
//! old map becomes a project that names them as it did. Projects between the join and
//! the map pass the new columns on.
//!
//! It moves only when the body's arguments that nothing after the map reads (nor the join
//! itself) outnumber the results it yields: the join then carries fewer columns, and once `prune-columns` drops
//! the consumed ones and `fuse` joins the new map to the row-wise chain over `B`'s scan,
//! those arguments are read by compiled code alone (which decodes decimals narrower,
//! see the CPU backend's `step_schemas`). TPC-H Q3's `l_extendedprice * (1 - l_discount)`
//! is computed beside the lineitem scan, and two decimal columns no longer reach the
//! join. The body then runs on rows the join would drop, which a fused pipeline does at
//! the cost of its arithmetic; so this pass runs at `-O2`, before `fuse`.

use super::Pass;
use super::rewrite_until_done;
use skadi_common::{Column, Join, JoinKind, Map, Project, ProjectExpr};
use skadi_flowgraph::{FlowGraph, FlowGraphError, GraphView, NewOp, OpKind, string_array};

pub(crate) struct PushdownMaps;

impl Pass for PushdownMaps {
    fn name(&self) -> &'static str {
        "pushdown-maps"
    }

    fn summary(&self) -> &'static str {
        "compute a map over an inner join on the side its body reads, when that narrows the join"
    }

    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError> {
        rewrite_until_done(graph, next_move, |graph, _, m| apply(graph, &m))
    }
}

/// A map that moves below a join.
struct Move {
    map: usize,
    /// The projects from the join up to the map, in that order.
    projects: Vec<usize>,
    join: usize,
    /// The join input the body reads: 0 (left) or 1 (right).
    side: usize,
    /// The body's arguments as that side names them.
    args: Vec<String>,
    /// The body results the map yields, in order of first use.
    results: Vec<usize>,
}

fn next_move(view: &GraphView) -> Option<Move> {
    let readers = super::reader_counts(view);
    view.ops.iter().enumerate().find_map(|(m, op)| {
        let OpKind::Map(Map { args, exprs, .. }) = &op.kind else {
            return None;
        };
        let mut results: Vec<usize> = Vec::new();
        for e in exprs {
            if let ProjectExpr::Body(n) = e
                && !results.contains(n)
            {
                results.push(*n);
            }
        }
        let passed = |a: &String| exprs.iter().any(|e| matches!(e, ProjectExpr::Column(c) if c == a));
        let consumed = args.iter().filter(|a| !passed(a)).count();
        if results.is_empty() || consumed <= results.len() {
            return None;
        }
        // Down through projects (each read only by the next op) to the join, naming the
        // arguments as each op's input does.
        let mut names = args.clone();
        let mut projects = Vec::new();
        let mut at = op.inputs[0];
        loop {
            if readers[at] != 1 {
                return None;
            }
            let below = &view.ops[at];
            match &below.kind {
                OpKind::Project(Project { columns }) => {
                    for n in &mut names {
                        let i = below.schema.iter().position(|c| &c.name == n)?;
                        *n = columns[i].clone();
                    }
                    projects.push(at);
                    at = below.inputs[0];
                }
                OpKind::Join(Join {
                    join_kind: JoinKind::Inner,
                    ..
                }) => break,
                _ => return None,
            }
        }
        let join = &view.ops[at];
        let OpKind::Join(Join {
            left_keys,
            right_keys,
            filter_args,
            ..
        }) = &join.kind
        else {
            return None;
        };
        let has = |side: usize, n: &String| view.ops[join.inputs[side]].schema.iter().any(|c| &c.name == n);
        let side = (0..2).find(|&s| names.iter().all(|n| has(s, n)))?;
        // A column the join reads stays below it however the map moves.
        let join_reads = |n: &String| left_keys.contains(n) || right_keys.contains(n) || filter_args.contains(n);
        let freed = args
            .iter()
            .zip(&names)
            .filter(|(a, n)| !passed(a) && !join_reads(n))
            .count();
        if freed <= results.len() {
            return None;
        }
        projects.reverse();
        Some(Move {
            map: m,
            projects,
            join: at,
            side,
            args: names,
            results,
        })
    })
}

/// A column name no op's schema has yet, for the map's results.
fn fresh_prefix(view: &GraphView) -> String {
    (0..)
        .map(|k| format!("__pushed{k}"))
        .find(|p| {
            !view
                .ops
                .iter()
                .any(|op| op.schema.iter().any(|c| c.name.starts_with(p)))
        })
        .expect("some prefix is free")
}

/// Inserts the map over the join's side before the join, then a copy of the join and of
/// each project that passes the new columns on, and a project in the map's place; each
/// new op replaces its original. Every insertion moves the ops after it up by one.
fn apply(graph: &mut FlowGraph, m: &Move) -> Result<(), FlowGraphError> {
    let view = graph.view()?;
    let map = &view.ops[m.map];
    let OpKind::Map(Map { body, exprs, .. }) = &map.kind else {
        return Err(FlowGraphError::Mlir("<pass>: error: pushdown-maps moves a map".into()));
    };
    let prefix = fresh_prefix(&view);
    // Each result's column: its fresh name, typed as the map's output column for it.
    let added: Vec<Column> = m
        .results
        .iter()
        .map(|&n| {
            let i = exprs
                .iter()
                .position(|e| *e == ProjectExpr::Body(n))
                .expect("a yielded result has a column");
            Column {
                name: format!("{prefix}.r{n}"),
                ..map.schema[i].clone()
            }
        })
        .collect();
    let input = view.ops[m.join].inputs[m.side];
    let side_schema = &view.ops[input].schema;
    let mut pushed_schema = side_schema.clone();
    pushed_schema.extend(added.iter().cloned());
    let pushed_exprs: Vec<String> = side_schema
        .iter()
        .map(|c| c.name.clone())
        .chain(m.results.iter().map(|n| format!("${n}")))
        .collect();
    let pushed = NewOp {
        name: "flow.map".into(),
        inputs: vec![input],
        attributes: vec![
            ("args".into(), string_array(&m.args)),
            ("body".into(), format!("@{body}")),
            ("exprs".into(), string_array(&pushed_exprs)),
        ],
        schema: Some(pushed_schema),
    };
    graph.insert(&pushed, m.join)?;
    // The join, reading the new map on its side; the side's columns come first or last.
    let join = &view.ops[m.join];
    let mut inputs = join.inputs.clone();
    inputs[m.side] = m.join;
    let left_width = view.ops[join.inputs[0]].schema.len();
    let mut schema = join.schema.clone();
    let at = if m.side == 0 { left_width } else { schema.len() };
    schema.splice(at..at, added.iter().cloned());
    let copy = NewOp {
        name: join.name.clone(),
        inputs,
        attributes: graph.attributes(m.join + 1)?,
        schema: Some(schema),
    };
    graph.replace(&copy, m.join + 1, m.join + 1)?;
    let names: Vec<String> = added.iter().map(|c| c.name.clone()).collect();
    let mut below = m.join + 1;
    let mut offset = 2;
    for &p in &m.projects {
        let project = &view.ops[p];
        let OpKind::Project(Project { columns }) = &project.kind else {
            unreachable!("the chain holds projects")
        };
        let mut columns = columns.clone();
        columns.extend(names.iter().cloned());
        let mut schema = project.schema.clone();
        schema.extend(added.iter().cloned());
        let at = p + offset;
        let copy = NewOp {
            name: "flow.project".into(),
            inputs: vec![below],
            attributes: vec![("columns".into(), string_array(&columns))],
            schema: Some(schema),
        };
        graph.replace(&copy, at, at)?;
        below = at;
        offset += 1;
    }
    // The map's place: its columns, the results under their new names, renamed back.
    let columns: Vec<String> = exprs
        .iter()
        .map(|e| match e {
            ProjectExpr::Column(c) => c.clone(),
            ProjectExpr::Body(n) => format!("{prefix}.r{n}"),
        })
        .collect();
    let at = m.map + offset;
    let project = NewOp {
        name: "flow.project".into(),
        inputs: vec![below],
        attributes: vec![("columns".into(), string_array(&columns))],
        schema: Some(map.schema.clone()),
    };
    graph.replace(&project, at, at)
}
