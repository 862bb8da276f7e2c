//! Set operations: a union runs at the parallelism of its widest input (capped by the
//! workers). Rows need not meet anywhere, so one input already at that parallelism (the
//! one with the most rows) streams in forward, in its own stage, and the others are
//! hash-partitioned on all their columns into the union's shards; where that is one
//! shard, or the rows have no column to hash, the others are gathered.

use super::{Lowering, stage_root, upstream};
use skadi_common::{Edge, HASH_SCHEME, Operator, Partitioning, Union};
use skadi_flowgraph::FlowOp;

pub(super) fn lower(l: &mut Lowering, union: Union, op: &FlowOp, inputs: &[usize], workers: usize) -> usize {
    let widest = inputs.iter().map(|&i| l.vertices[i].parallelism).max().unwrap_or(1);
    let p = if op.schema.is_empty() { 1 } else { widest.min(workers) };
    // The union joins its forward input's stage: no other input may be in that stage or
    // read from it (the same vertex twice, say), or the stage would wait on itself.
    let forward = (0..inputs.len())
        .filter(|&k| l.vertices[inputs[k]].parallelism == p)
        .filter(|&k| {
            let root = stage_root(&l.vertices, inputs[k]);
            (0..inputs.len())
                .filter(|&j| j != k)
                .all(|j| !upstream(&l.vertices, inputs[j]).any(|v| stage_root(&l.vertices, v) == root))
        })
        .max_by(|&a, &b| l.rows[inputs[a]].total_cmp(&l.rows[inputs[b]]));
    let edges = inputs
        .iter()
        .enumerate()
        .map(|(k, &i)| Edge {
            from: i,
            partitioning: if Some(k) == forward {
                Partitioning::Forward
            } else if p == 1 {
                Partitioning::Gather
            } else {
                Partitioning::Hash {
                    keys: l.vertices[i].schema.iter().map(|c| c.name.clone()).collect(),
                    scheme: HASH_SCHEME.into(),
                }
            },
        })
        .collect();
    let others = if p == 1 {
        "gathered"
    } else {
        "hash-partitioned on their columns"
    };
    let reason = match forward {
        Some(k) => format!(
            "a union of {} inputs in {p} shard(s): input {} streams in, the others {others}",
            inputs.len(),
            k + 1
        ),
        None => format!("a union of {} inputs in {p} shard(s), each {others}", inputs.len()),
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
