//! Aggregates: in one step where one shard sees every row of its groups, otherwise split
//! into partial states per shard, an exchange on the group keys and a final step.

use super::Lowering;
use skadi_common::{Aggregate, AggregateMode, Column, Edge, HASH_SCHEME, Operator, Partitioning};
use skadi_flowgraph::FlowOp;

/// Lowers an aggregate over `input`: one step over one shard; otherwise a partial
/// aggregate per shard, an exchange on the keys (a gather without keys) and a final
/// aggregate, or, without a combiner, raw rows exchanged into one aggregate step.
pub(super) fn lower(
    l: &mut Lowering,
    op: &FlowOp,
    input: usize,
    aggregate: Aggregate,
    combine: bool,
    workers: usize,
) -> usize {
    let location = op.location.clone();
    let p_in = l.vertices[input].parallelism;
    let (keys, aggregates) = (&aggregate.keys, &aggregate.aggregates);
    let make = |mode| Operator::Aggregate {
        mode,
        aggregate: aggregate.clone(),
    };
    if p_in == 1 {
        let edge = Edge {
            from: input,
            partitioning: Partitioning::Forward,
        };
        return l.add(
            make(AggregateMode::Single),
            op.schema.clone(),
            1,
            vec![edge],
            location,
            "one input shard: aggregates in one step".into(),
        );
    }
    let combinable = aggregates.iter().all(|a| a.function.combinable());
    if !combine || !combinable {
        // No combiner: raw rows go to the shard that owns their group.
        let why = if combine {
            "collect keeps every value, so rows are not combined before the shuffle"
        } else {
            "no combiner: raw rows shuffled"
        };
        let (partitioning, p, reason) = if keys.is_empty() {
            (Partitioning::Gather, 1, format!("{why}; no group keys: gathered"))
        } else {
            let p = p_in.min(workers);
            (
                Partitioning::Hash {
                    keys: keys.to_vec(),
                    scheme: HASH_SCHEME.into(),
                },
                p,
                format!("{why}, hash-partitioned on the group keys into {p} shard(s)"),
            )
        };
        return l.add(
            make(AggregateMode::Single),
            op.schema.clone(),
            p,
            vec![Edge {
                from: input,
                partitioning,
            }],
            location,
            reason,
        );
    }
    // Partial states: keys ++ one or two state columns per aggregate.
    // The keys keep their input names, so the final step and the exchange find them.
    let in_schema = &l.vertices[input].schema;
    let mut state_schema: Vec<Column> = keys
        .iter()
        .map(|k| {
            in_schema
                .iter()
                .find(|c| &c.name == k)
                .expect("the verifier checked the keys")
                .clone()
        })
        .collect();
    for (i, a) in aggregates.iter().enumerate() {
        let in_ty = a
            .input
            .as_ref()
            .and_then(|c| in_schema.iter().find(|x| &x.name == c))
            .map(|c| c.ty);
        let types = a
            .function
            .state_types(in_ty)
            .expect("the verifier checked aggregate input types");
        for (j, t) in types.into_iter().enumerate() {
            state_schema.push(Column::new(format!("__state{i}_{j}"), t, true));
        }
    }
    let partial = l.add(
        make(AggregateMode::Partial),
        state_schema,
        p_in,
        vec![Edge {
            from: input,
            partitioning: Partitioning::Forward,
        }],
        location.clone(),
        "partial aggregate on each input shard".into(),
    );
    let (partitioning, p, reason) = if keys.is_empty() {
        (
            Partitioning::Gather,
            1,
            "no group keys: gathers the partial states".to_string(),
        )
    } else {
        let p = p_in.min(workers);
        let reason = format!(
            "hash-partitioned on the group keys into {p} shard(s) (min of {p_in} input shards and --workers {workers})"
        );
        (
            Partitioning::Hash {
                keys: keys.to_vec(),
                scheme: HASH_SCHEME.into(),
            },
            p,
            reason,
        )
    };
    l.add(
        make(AggregateMode::Final),
        op.schema.clone(),
        p,
        vec![Edge {
            from: partial,
            partitioning,
        }],
        location,
        reason,
    )
}
