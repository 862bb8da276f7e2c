//! `skadi explain`: every stage of a physical plan, each vertex with its parallelism,
//! backend, source location and the reason lowering gave, and every exchange. Each
//! operator's own text is its `Display`, beside its definition in `skadi_common::operators`.

use skadi_common::{Partitioning, PhysicalPlan};
use std::fmt::Write;

pub(crate) fn partitioning(p: &Partitioning) -> String {
    match p {
        Partitioning::Forward => "forward".into(),
        Partitioning::Hash { keys, .. } => format!("hash({})", keys.join(", ")),
        Partitioning::Gather => "gather".into(),
        Partitioning::Broadcast => "broadcast".into(),
    }
}

/// The plan as text, stage by stage.
pub fn explain(plan: &PhysicalPlan) -> String {
    let mut out = String::new();
    for stage in &plan.stages {
        let _ = writeln!(out, "Stage {} — {} shard(s)", stage.id, stage.parallelism);
        for &id in &stage.vertices {
            let v = &plan.vertices[id];
            for e in v.inputs.iter().filter(|e| e.partitioning.is_exchange()) {
                let from = &plan.vertices[e.from];
                let _ = writeln!(
                    out,
                    "  ◀ {} from #{} (stage {}, {} shard(s))",
                    partitioning(&e.partitioning),
                    e.from,
                    from.stage,
                    from.parallelism
                );
            }
            let loc = v.location.as_deref().map(|l| format!("  [{l}]")).unwrap_or_default();
            let _ = writeln!(out, "  #{id} {} ×{} on {}{loc}", v.op, v.parallelism, v.backend);
            let _ = writeln!(out, "      why: {}", v.reason);
        }
    }
    out
}
