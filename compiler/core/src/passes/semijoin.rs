//! `pushdown-semijoins`: a semi or anti join moves below the inner joins (and the projects
//! between) that its left input comes through, down to the input its keys come from.
//!
//! Whether a row passes a semi or anti join depends only on the columns the join reads
//! (its left keys, and its filter's left arguments) and on its right input. When those
//! columns all come from one input `A` of an inner join `A ⋈ B`, filtering `A` first
//! gives the same rows: `(A ⋈ B) ⋉ R = (A ⋉ R) ⋈ B`. It moves only when nothing upstream
//! of `B` drops rows ([`drops_rows`]), so the inner join is not the stronger filter. The
//! semi join then runs on `A`'s rows rather than on the joined ones, and the inner join
//! reads fewer rows — TPC-H Q18's
//! `o_orderkey IN (…)` keeps a few dozen orders before lineitem is joined to them,
//! instead of after. Through a project the join's column names are mapped back to the
//! project's input: `project(X) ⋉ R = project(X ⋉ R)`.

use super::Pass;
use super::rewrite_until_done;
use skadi_common::{Join, JoinKind, Project};
use skadi_flowgraph::{FlowGraph, FlowGraphError, GraphView, NewOp, OpKind, string_array};

pub(crate) struct PushdownSemiJoins;

impl Pass for PushdownSemiJoins {
    fn name(&self) -> &'static str {
        "pushdown-semijoins"
    }

    fn summary(&self) -> &'static str {
        "move semi and anti joins below the inner joins their keys come through"
    }

    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError> {
        rewrite_until_done(graph, next_move, |graph, _, step| apply(graph, step))
    }
}

/// One move of the semi/anti join at `join`.
enum Move {
    /// Below the project at its left input; the join's left column names as the project
    /// reads them.
    Project {
        join: usize,
        project: usize,
        left_keys: Vec<String>,
        filter_args: Vec<String>,
    },
    /// Onto input `side` of the inner join at its left input.
    Join { join: usize, inner: usize, side: usize },
}

/// The first semi or anti join that can move down, and where to.
fn next_move(view: &GraphView) -> Option<Move> {
    view.ops.iter().enumerate().find_map(|(j, op)| {
        let OpKind::Join(Join {
            join_kind: JoinKind::Semi | JoinKind::Anti,
            left_keys,
            filter_args,
            ..
        }) = &op.kind
        else {
            return None;
        };
        let (left, right) = (op.inputs[0], op.inputs[1]);
        let right_has = |c: &str| view.ops[right].schema.iter().any(|col| col.name == c);
        // The columns of the left input the join reads: its keys and the filter's.
        let left_args: Vec<&String> = filter_args.iter().filter(|a| !right_has(a)).collect();
        let reads = || left_keys.iter().chain(left_args.iter().copied());
        if reads().any(|c| right_has(c)) {
            return None;
        }
        match &view.ops[left].kind {
            OpKind::Project(Project { columns }) if is_inner_join(view, view.ops[left].inputs[0]) => {
                let schema = &view.ops[left].schema;
                let source = |c: &String| -> Option<String> {
                    let i = schema.iter().position(|col| &col.name == c)?;
                    Some(columns[i].clone())
                };
                let mapped_keys: Option<Vec<String>> = left_keys.iter().map(source).collect();
                let mapped_args: Option<Vec<String>> = filter_args
                    .iter()
                    .map(|a| if right_has(a) { Some(a.clone()) } else { source(a) })
                    .collect();
                let (left_keys, filter_args) = (mapped_keys?, mapped_args?);
                // Just below the project, the join's left input may hold a name of its
                // right input's (one the project dropped): it may stop there only if not,
                // else it must go on below the inner join, to a side without that name.
                let inner = view.ops[left].inputs[0];
                if shares_names(view, inner, right) {
                    let reads: Vec<&String> = left_keys
                        .iter()
                        .chain(filter_args.iter().filter(|a| !right_has(a)))
                        .collect();
                    join_side(view, inner, &reads, right)?;
                }
                Some(Move::Project {
                    join: j,
                    project: left,
                    left_keys,
                    filter_args,
                })
            }
            OpKind::Join(Join {
                join_kind: JoinKind::Inner,
                ..
            }) => Some(Move::Join {
                join: j,
                inner: left,
                side: join_side(view, left, &reads().collect::<Vec<_>>(), right)?,
            }),
            _ => None,
        }
    })
}

/// Whether anything upstream of `op` (itself included) can drop rows: a filter, an
/// aggregate, a semi or anti join, a limit. An inner join with a side that drops none (an
/// unfiltered table) keeps most rows of its other side — all of them, for a foreign key —
/// so a semi join moved below it reads no more rows than it did above it. A side that
/// drops rows may make the inner join the stronger filter (TPC-H Q21: the suppliers of
/// one nation), which should then run first; the semi join stays.
pub(crate) fn drops_rows(view: &GraphView, op: usize) -> bool {
    filters_rows(view, op) || super::upstream(view, op).any(|i| matches!(view.ops[i].kind, OpKind::Aggregate { .. }))
}

/// Whether anything upstream of `op` (itself included) drops rows by their values: a
/// filter, a semi or anti join, a limit ([`OpKind::filters_rows`]). Unlike
/// [`drops_rows`], an aggregate does not count: it has as many keys as its input.
pub(crate) fn filters_rows(view: &GraphView, op: usize) -> bool {
    super::upstream(view, op).any(|i| view.ops[i].kind.filters_rows())
}

/// The input of the inner join `inner` that a semi or anti join reading `reads` (of its
/// left input) and `right` (its right input) may move onto: the side holding every
/// column it reads, when the other side drops no rows ([`drops_rows`]) and the side
/// shares no column name with `right`.
fn join_side(view: &GraphView, inner: usize, reads: &[&String], right: usize) -> Option<usize> {
    let inputs = &view.ops[inner].inputs;
    let side = (0..2).find(|&s| {
        let schema = &view.ops[inputs[s]].schema;
        reads.iter().all(|c| schema.iter().any(|col| &col.name == *c))
    })?;
    (!drops_rows(view, inputs[1 - side]) && !shares_names(view, inputs[side], right)).then_some(side)
}

/// Whether ops `a` and `b` have a column name in common: a join's inputs must not (a
/// column a project dropped may be a right column's name too, as when both sides read
/// one table: TPC-H Q17's `lineitem.l_partkey` through Substrait, which has no subquery
/// aliases).
fn shares_names(view: &GraphView, a: usize, b: usize) -> bool {
    let b = &view.ops[b].schema;
    view.ops[a].schema.iter().any(|c| b.iter().any(|d| d.name == c.name))
}

fn is_inner_join(view: &GraphView, op: usize) -> bool {
    matches!(
        view.ops[op].kind,
        OpKind::Join(Join {
            join_kind: JoinKind::Inner,
            ..
        })
    )
}

/// `attributes` with `name`'s value replaced (or added).
fn with(mut attributes: Vec<(String, String)>, name: &str, text: String) -> Vec<(String, String)> {
    match attributes.iter_mut().find(|(n, _)| n == name) {
        Some(a) => a.1 = text,
        None => attributes.push((name.to_string(), text)),
    }
    attributes
}

/// Inserts the moved semi/anti join (on `left` and the old join's right input) before the
/// old join, then the op it moved below (reading it), which replaces the old join.
fn apply(graph: &mut FlowGraph, step: Move) -> Result<(), FlowGraphError> {
    let view = graph.view()?;
    let (join, below) = match step {
        Move::Project { join, project, .. } => (join, project),
        Move::Join { join, inner, .. } => (join, inner),
    };
    let old = &view.ops[join];
    let mut attributes = graph.attributes(join)?;
    let (left, side) = match &step {
        Move::Project {
            left_keys, filter_args, ..
        } => {
            attributes = with(attributes, "left_keys", string_array(left_keys));
            if !filter_args.is_empty() {
                attributes = with(attributes, "filter_args", string_array(filter_args));
            }
            (view.ops[below].inputs[0], 0)
        }
        Move::Join { side, .. } => (view.ops[below].inputs[*side], *side),
    };
    let moved = NewOp {
        name: "flow.join".into(),
        inputs: vec![left, old.inputs[1]],
        attributes,
        schema: Some(view.ops[left].schema.clone()),
    };
    graph.insert(&moved, join)?;
    // The moved join is op `join` now; the old one is `join + 1`.
    let mut inputs = view.ops[below].inputs.clone();
    inputs[side] = join;
    let above = NewOp {
        name: view.ops[below].name.clone(),
        inputs,
        attributes: graph.attributes(if below >= join { below + 1 } else { below })?,
        schema: Some(old.schema.clone()),
    };
    graph.replace(&above, join + 1, join + 1)
}
