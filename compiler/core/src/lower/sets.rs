//! Set operations: a union reads every input through an exchange into its own stage —
//! hash-partitioned on all the columns into as many shards as its widest input has
//! (capped by the workers), or gathered into one where that is one.

use super::Lowering;
use skadi_common::{Edge, HASH_SCHEME, Operator, Partitioning, Union};
use skadi_flowgraph::FlowOp;

pub(super) fn lower(l: &mut Lowering, union: Union, op: &FlowOp, inputs: &[usize], workers: usize) -> usize {
    let widest = inputs.iter().map(|&i| l.vertices[i].parallelism).max().unwrap_or(1);
    // Hashing needs a column to hash; a union of column-less rows is gathered.
    let p = if op.schema.is_empty() { 1 } else { widest.min(workers) };
    let edges = inputs
        .iter()
        .map(|&i| Edge {
            from: i,
            partitioning: if p == 1 {
                Partitioning::Gather
            } else {
                Partitioning::Hash {
                    keys: l.vertices[i].schema.iter().map(|c| c.name.clone()).collect(),
                    scheme: HASH_SCHEME.into(),
                }
            },
        })
        .collect();
    let reason = if p == 1 {
        format!("a union of {} inputs, gathered into one shard", inputs.len())
    } else {
        format!(
            "a union of {} inputs, each hash-partitioned on its columns into {p} shard(s)",
            inputs.len()
        )
    };
    l.add(
        Operator::Union(union),
        op.schema.clone(),
        p,
        edges,
        op.location.clone(),
        reason,
    )
}
