//! `pushdown-predicates`: a filter (or a pipeline's kept-rows predicate) reading a source
//! directly hands the source the comparisons its predicate is a conjunction of —
//! `column <op> constant` — as the source's `prune` attribute. Lowering then skips Parquet
//! row groups whose min/max statistics show no row can pass. The filter stays: pruning
//! drops whole row groups, never single rows.

use super::Pass;
use skadi_common::{ColumnType, Filter, Pipeline, Source};
use skadi_flowgraph::{FlowGraph, FlowGraphError, OpKind, string_array};

pub(crate) struct PushdownPredicates;

impl Pass for PushdownPredicates {
    fn name(&self) -> &'static str {
        "pushdown-predicates"
    }

    fn summary(&self) -> &'static str {
        "give sources the column bounds of the filters over them (Parquet row-group pruning)"
    }

    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError> {
        let view = graph.view()?;
        let mut changed = false;
        for op in &view.ops {
            let (body, result, args) = match &op.kind {
                OpKind::Filter(Filter { body, args }) => (body, 0, args),
                OpKind::Pipeline(
                    p @ Pipeline {
                        body,
                        args,
                        keep: Some(k),
                        ..
                    },
                ) if !p.self_contained() => (body, *k, args),
                _ => continue,
            };
            let source = op.inputs[0];
            let OpKind::Source(Source { columns, prune, .. }) = &view.ops[source].kind else {
                continue;
            };
            let schema = &view.ops[source].schema;
            let mut entries = prune.clone();
            for b in graph.predicate_bounds(body, result)? {
                let Some(i) = schema.iter().position(|c| c.name == args[b.param]) else {
                    continue;
                };
                // A decimal is its scaled integer in bodies; statistics are in units.
                let value = match schema[i].ty {
                    ColumnType::Decimal(_, s) => b.value / 10f64.powi(s as i32),
                    _ => b.value,
                };
                let entry = format!("{} {} {value}", columns[i], b.op);
                if !entries.contains(&entry) {
                    entries.push(entry);
                }
            }
            if entries != *prune {
                graph.set_attribute(source, "prune", &string_array(&entries))?;
                changed = true;
            }
        }
        Ok(changed)
    }
}
