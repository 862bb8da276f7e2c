//! `cse`: common-subgraph elimination. Two vertices that compute the same thing — same op,
//! same attributes, same inputs (after earlier merges), same result type, and bodies that
//! are equal up to their names — become one; the second's readers read the first. Working
//! in order from the sources, a whole repeated subgraph (scan, filter, aggregate used twice)
//! collapses to one copy that runs once.

use super::Pass;
use skadi_common::{Filter, Iterate, Join, Map, Pipeline};
use skadi_flowgraph::{FlowGraph, FlowGraphError, GraphView, OpKind};
use std::collections::HashMap;

pub(crate) struct CommonSubgraphs;

/// A body's text with its own name blanked, so equal bodies compare equal.
fn body_key(view: &GraphView, name: &str) -> String {
    view.bodies
        .get(name)
        .map(|b| b.mlir.replacen(&format!("@{name}("), "@(", 1))
        .unwrap_or_else(|| name.to_string())
}

/// What makes a vertex the same as another, given its inputs' representatives.
fn vertex_key(view: &GraphView, index: usize, inputs: &[usize]) -> Option<String> {
    let op = &view.ops[index];
    let mut kind = op.kind.clone();
    let body = match &mut kind {
        OpKind::Sink(_) => return None,
        OpKind::Filter(Filter { body, .. })
        | OpKind::Map(Map { body, .. })
        | OpKind::Pipeline(Pipeline { body, .. })
        | OpKind::Iterate(Iterate { body, .. }) => Some(std::mem::take(body)),
        OpKind::Join(Join { filter, .. }) => filter.take(),
        _ => None,
    };
    let body = body.map(|b| body_key(view, &b)).unwrap_or_default();
    Some(format!("{inputs:?}|{kind:?}|{:?}|{body}", op.schema))
}

impl Pass for CommonSubgraphs {
    fn name(&self) -> &'static str {
        "cse"
    }

    fn summary(&self) -> &'static str {
        "merge vertices (and so whole subgraphs) that compute the same table"
    }

    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError> {
        let view = graph.view()?;
        // representative[i]: the first vertex equal to vertex i.
        let mut representative: Vec<usize> = Vec::with_capacity(view.ops.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut merges = Vec::new();
        for i in 0..view.ops.len() {
            let inputs: Vec<usize> = view.ops[i].inputs.iter().map(|&j| representative[j]).collect();
            let rep = match vertex_key(&view, i, &inputs) {
                Some(key) => *seen.entry(key).or_insert(i),
                None => i,
            };
            if rep != i {
                merges.push((i, rep));
            }
            representative.push(rep);
        }
        for &(of, with) in &merges {
            graph.redirect(of, with)?;
        }
        graph.erase_dead()?;
        Ok(!merges.is_empty())
    }
}
