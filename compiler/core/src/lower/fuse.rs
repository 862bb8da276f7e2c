//! Vertex fusion (at -O2): a vertex whose only input is a forward edge from a vertex it
//! alone reads runs as a later step of that vertex when it is row-wise, a training step
//! or a partial (or single-step) aggregate.

use skadi_common::{AggregateMode, Operator, Step, Vertex};

/// Whether `v` may run as a later step of the vertex that feeds it.
fn joins_its_input(v: &Vertex, readers: &[usize]) -> bool {
    let [edge] = v.inputs.as_slice() else { return false };
    let fusable = matches!(
        v.op,
        Operator::Filter { .. }
            | Operator::Project { .. }
            | Operator::Pipeline { .. }
            | Operator::Match { .. }
            | Operator::StringFunction { .. }
            | Operator::Pick(_)
            | Operator::Concat(_)
            | Operator::Compare(_)
            | Operator::FlatMap { .. }
            | Operator::Limit(_)
            | Operator::TopK(_)
            | Operator::Iterate { .. }
            | Operator::Aggregate {
                mode: AggregateMode::Partial | AggregateMode::Single,
                ..
            }
    );
    fusable && !edge.partitioning.is_exchange() && readers[edge.from] == 1
}

/// Merges forward chains into fused vertices; returns the new vertices, the output id and
/// each new vertex's rows (the most any of its steps handles).
pub(super) fn fuse(vertices: Vec<Vertex>, output: usize, estimates: &[f64]) -> (Vec<Vertex>, usize, Vec<f64>) {
    let mut readers = vec![0usize; vertices.len()];
    for v in &vertices {
        for e in &v.inputs {
            readers[e.from] += 1;
        }
    }
    // new_id[i]: the fused vertex that old vertex i became part of.
    let mut new_id: Vec<usize> = Vec::with_capacity(vertices.len());
    let mut groups: Vec<Vec<Vertex>> = Vec::new();
    for v in vertices {
        if joins_its_input(&v, &readers) {
            let g = new_id[v.inputs[0].from];
            groups[g].push(v);
            new_id.push(g);
        } else {
            new_id.push(groups.len());
            groups.push(vec![v]);
        }
    }
    let mut rows = vec![0f64; groups.len()];
    for (i, &g) in new_id.iter().enumerate() {
        rows[g] = rows[g].max(estimates[i]);
    }
    let fused = groups
        .into_iter()
        .enumerate()
        .map(|(id, mut group)| {
            let mut first = group.remove(0);
            first.id = id;
            for e in &mut first.inputs {
                e.from = new_id[e.from];
            }
            if group.is_empty() {
                return first;
            }
            let names: Vec<&str> = std::iter::once(first.op.name())
                .chain(group.iter().map(|v| v.op.name()))
                .collect();
            let reason = format!("{}; fused {}", first.reason, names.join(" → "));
            let mut steps = vec![Step {
                op: first.op,
                schema: first.schema,
                location: first.location.clone(),
            }];
            steps.extend(group.into_iter().map(|v| Step {
                op: v.op,
                schema: v.schema,
                location: v.location,
            }));
            Vertex {
                schema: steps.last().expect("not empty").schema.clone(),
                op: Operator::Fused { steps },
                reason,
                ..first
            }
        })
        .collect();
    (fused, new_id[output], rows)
}
