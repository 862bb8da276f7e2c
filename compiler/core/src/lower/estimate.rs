//! Row estimates, from which lowering sizes exchanges and broadcasts and the cost model
//! picks backends.

use skadi_common::{JoinKind, Limit, Operator, Pipeline, TopK};

/// Estimated output rows of a vertex from its inputs': scans are set from file metadata;
/// a predicate keeps half; a grouped aggregate a tenth, an ungrouped one a row per shard;
/// a limit its fetch; an inner join as many as its larger side (a key joined to a
/// foreign key), an outer join its preserved sides, semi and anti joins half the left.
pub(super) fn estimate(op: &Operator, parallelism: usize, inputs: &[f64]) -> f64 {
    let input: f64 = inputs.iter().sum();
    let side = |i: usize| inputs.get(i).copied().unwrap_or(0.0);
    match op {
        Operator::Scan(_) => 0.0,
        Operator::Filter(_) | Operator::Pipeline(Pipeline { keep: Some(_), .. }) => input * 0.5,
        Operator::Aggregate { aggregate, .. } if aggregate.keys.is_empty() => parallelism as f64,
        Operator::Aggregate { .. } => (input * 0.1).max(1.0),
        Operator::FlatMap(_) => input * 10.0,
        Operator::Iterate { .. } => 1.0,
        Operator::Limit(Limit { fetch: Some(f), skip }) => input.min(f.saturating_add(*skip) as f64),
        Operator::TopK(TopK { fetch, .. }) => input.min(fetch.saturating_mul(parallelism) as f64),
        Operator::HashJoin { join, .. } => {
            let matched = if join.left_keys.is_empty() {
                side(0) * side(1)
            } else {
                side(0).max(side(1))
            };
            let matched = if join.filter.is_some() { matched * 0.5 } else { matched };
            match join.join_kind {
                JoinKind::Inner => matched,
                JoinKind::Left => matched.max(side(0)),
                JoinKind::Right => matched.max(side(1)),
                JoinKind::Full => matched.max(side(0) + side(1)),
                JoinKind::Semi | JoinKind::Anti => side(0) * 0.5,
            }
        }
        _ => input,
    }
}
