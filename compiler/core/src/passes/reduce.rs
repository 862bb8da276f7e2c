//! `reduce-aggregates`: a join's filtered side first semi-joins the input of an aggregate
//! on the other side, on the group keys the join matches — so only the groups the join
//! can keep are computed.
//!
//! `X ⋈ γ_G(Y)` on keys `K ⊆ G` equals `X ⋈ γ_G(Y ⋉ X)`: a group is all of `Y`'s rows
//! with its key, and the semi join keeps or drops all of them together, dropping exactly
//! the groups no row of `X` matches. That holds for inner joins (either side), semi and
//! anti joins with the aggregate on the right (not null-aware: NOT IN must see a NULL
//! group), and outer joins whose aggregate side is the one not kept. Between the
//! aggregate and the join may be projects, filters, maps and pipelines that pass the key
//! columns through (names are followed back).
//!
//! It pays when `X` keeps few keys, so it runs only when something upstream of `X`
//! filters rows (a filter, a semi join, ...; see `semijoin::filters_rows`; an aggregate
//! alone keeps every key of its input): TPC-H Q17's
//! average per part is then computed for the ~200 parts of one brand and container, not
//! all 200 K, and Q20's quantity per part and supplier for the ~8 K pairs of 'forest'
//! parts. The aggregate and the ops after it must have no other reader (they are
//! rebuilt), and `X` must not read the aggregate.

use super::rewrite_until_done;
use super::{Pass, reader_counts, semijoin::filters_rows, upstream};
use skadi_common::{Aggregate, Column, Join, JoinKind, Map, Pipeline, Project, ProjectExpr};
use skadi_flowgraph::{FlowGraph, FlowGraphError, GraphView, NewOp, OpKind, string_array};

pub(crate) struct ReduceAggregates;

impl Pass for ReduceAggregates {
    fn name(&self) -> &'static str {
        "reduce-aggregates"
    }

    fn summary(&self) -> &'static str {
        "a join's filtered side semi-joins the input of the aggregate it is joined with"
    }

    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError> {
        rewrite_until_done(graph, next_reduction, |graph, _, step| apply(graph, &step))
    }
}

/// A join at `join` whose input chain `chain` (the aggregate first, then each op up to the
/// join's input) is rebuilt over `Y ⋉ X`: `Y` (the aggregate's input) on `keys`, `X`
/// on `x_keys`.
struct Reduction {
    join: usize,
    chain: Vec<usize>,
    keys: Vec<String>,
    x: usize,
    x_keys: Vec<String>,
}

fn next_reduction(view: &GraphView) -> Option<Reduction> {
    let readers = reader_counts(view);
    view.ops.iter().enumerate().find_map(|(j, op)| {
        let OpKind::Join(Join {
            join_kind: kind,
            left_keys,
            right_keys,
            null_aware,
            ..
        }) = &op.kind
        else {
            return None;
        };
        if left_keys.is_empty() {
            return None;
        }
        (0..2).find_map(|side| {
            let allowed = match kind {
                JoinKind::Inner => true,
                JoinKind::Semi | JoinKind::Anti => side == 1 && !null_aware,
                JoinKind::Left => side == 1,
                JoinKind::Right => side == 0,
                JoinKind::Full => false,
            };
            if !allowed {
                return None;
            }
            let (keys, x_keys) = if side == 0 {
                (left_keys, right_keys)
            } else {
                (right_keys, left_keys)
            };
            let x = op.inputs[1 - side];
            let (chain, keys, x_keys) = aggregate_below(view, &readers, op.inputs[side], keys, x_keys)?;
            let aggregate = chain[0];
            let y = view.ops[aggregate].inputs[0];
            // Already reduced by this X.
            if let OpKind::Join(Join {
                join_kind: JoinKind::Semi,
                ..
            }) = view.ops[y].kind
                && view.ops[view.ops[y].inputs[1]].inputs.first() == Some(&x)
            {
                return None;
            }
            if !filters_rows(view, x) || upstream(view, x).any(|i| i == aggregate) {
                return None;
            }
            Some(Reduction {
                join: j,
                chain,
                keys,
                x,
                x_keys,
            })
        })
    })
}

/// From `top` down to an aggregate through single-reader row-wise ops: the ops
/// (aggregate first), and the join's key pairs whose `keys` side is passed through to a
/// group key — named as the aggregate's input has it, beside the other side's name. A
/// computed key is left out (the semi join matches on the others); none left, no match.
fn aggregate_below(
    view: &GraphView,
    readers: &[usize],
    top: usize,
    keys: &[String],
    x_keys: &[String],
) -> Option<(Vec<usize>, Vec<String>, Vec<String>)> {
    let mut pairs: Vec<(String, String)> = keys.iter().cloned().zip(x_keys.iter().cloned()).collect();
    let mut chain = vec![];
    let mut at = top;
    loop {
        if readers[at] != 1 {
            return None;
        }
        chain.push(at);
        let op = &view.ops[at];
        let position = |k: &String| op.schema.iter().position(|c| &c.name == k);
        match &op.kind {
            OpKind::Aggregate {
                aggregate: Aggregate { keys: group, .. },
                ..
            } => {
                pairs.retain(|(k, _)| group.contains(k));
                if pairs.is_empty() {
                    return None;
                }
                chain.reverse();
                let (keys, x_keys) = pairs.into_iter().unzip();
                return Some((chain, keys, x_keys));
            }
            OpKind::Filter(_) => {}
            OpKind::Project(Project { columns }) => {
                for (k, _) in &mut pairs {
                    *k = columns[position(k)?].clone();
                }
            }
            OpKind::Map(Map { exprs, .. }) | OpKind::Pipeline(Pipeline { exprs, .. }) => {
                let mut kept = Vec::new();
                for (k, x) in pairs {
                    if let ProjectExpr::Column(c) = &exprs[position(&k)?] {
                        kept.push((c.clone(), x));
                    }
                }
                pairs = kept;
            }
            _ => return None,
        }
        at = op.inputs[0];
    }
}

/// Inserts `Y ⋉ π(X)` before the join (`π` keeps X's keys only, renamed so no name is
/// also one of Y's), then a copy of each chain op over it, each replacing its original;
/// every new op comes after `X` and `Y`, which the join reads already.
fn apply(graph: &mut FlowGraph, r: &Reduction) -> Result<(), FlowGraphError> {
    let view = graph.view()?;
    let y = view.ops[r.chain[0]].inputs[0];
    let x_schema = &view.ops[r.x].schema;
    let mut keys_schema = Vec::new();
    for (i, k) in r.x_keys.iter().enumerate() {
        let column = x_schema
            .iter()
            .find(|c| &c.name == k)
            .ok_or_else(|| FlowGraphError::Mlir(format!("<pass>: error: join key {k} is not a column")))?;
        keys_schema.push(Column {
            name: format!("__reduce{}.k{i}", r.join),
            ..column.clone()
        });
    }
    let names: Vec<String> = keys_schema.iter().map(|c| c.name.clone()).collect();
    let project = NewOp {
        name: "flow.project".into(),
        inputs: vec![r.x],
        attributes: vec![("columns".into(), string_array(&r.x_keys))],
        schema: Some(keys_schema),
    };
    graph.insert(&project, r.join)?;
    let semi = NewOp {
        name: "flow.join".into(),
        inputs: vec![y, r.join],
        attributes: vec![
            ("kind".into(), "\"semi\"".into()),
            ("left_keys".into(), string_array(&r.keys)),
            ("right_keys".into(), string_array(&names)),
        ],
        schema: Some(view.ops[y].schema.clone()),
    };
    graph.insert(&semi, r.join + 1)?;
    // Every chain op is before the join, so inserting at the join leaves its index alone.
    let mut below = r.join + 1;
    for (k, &op) in r.chain.iter().enumerate() {
        let at = r.join + 2 + k;
        let copy = NewOp {
            name: view.ops[op].name.clone(),
            inputs: vec![below],
            attributes: graph.attributes(op)?,
            schema: Some(view.ops[op].schema.clone()),
        };
        graph.replace(&copy, at, op)?;
        below = at;
    }
    Ok(())
}
