//! `skadi explain`: every stage of a physical plan, each vertex with its parallelism,
//! backend, source location and the reason lowering gave, and every exchange.

use skadi_common::{Operator, Partitioning, PhysicalPlan, ProjectExpr};
use std::fmt::Write;

pub(crate) fn describe(op: &Operator) -> String {
    match op {
        Operator::Scan {
            table,
            format,
            columns,
            shards,
        } => {
            let units: usize = shards
                .iter()
                .flatten()
                .map(|s| s.row_groups.as_ref().map_or(1, Vec::len))
                .sum();
            format!("scan {table} ({format}, {} columns, {units} units)", columns.len())
        }
        Operator::Filter { body, args } => format!("filter @{body}({})", args.join(", ")),
        Operator::Project {
            body: Some(body),
            args,
            exprs,
        } => {
            let computed = exprs.iter().filter(|e| matches!(e, ProjectExpr::Body(_))).count();
            format!(
                "map @{body}({}) -> {computed} computed, {} passed through",
                args.join(", "),
                exprs.len() - computed
            )
        }
        Operator::Project { body: None, exprs, .. } => format!("project {} columns", exprs.len()),
        Operator::Pipeline {
            body,
            args,
            exprs,
            keep,
            ..
        } => {
            let computed = exprs.iter().filter(|e| matches!(e, ProjectExpr::Body(_))).count();
            format!(
                "pipeline @{body}({}){} -> {computed} computed, {} passed through",
                args.join(", "),
                keep.map(|k| format!(" keeps rows where ${k}")).unwrap_or_default(),
                exprs.len() - computed
            )
        }
        Operator::Fused { steps } => {
            let steps: Vec<String> = steps.iter().map(|s| describe(&s.op)).collect();
            format!("fused [{}]", steps.join(" → "))
        }
        Operator::Aggregate { keys, aggregates, .. } => {
            let aggs: Vec<String> = aggregates.iter().map(skadi_flowgraph::format_aggregate).collect();
            format!("{} keys=[{}] [{}]", op.name(), keys.join(", "), aggs.join(", "))
        }
        Operator::HashJoin {
            join_kind,
            left_keys,
            right_keys,
            build,
            filter,
            filter_args,
            null_aware,
        } => {
            let on: Vec<String> = left_keys
                .iter()
                .zip(right_keys)
                .map(|(l, r)| format!("{l} = {r}"))
                .collect();
            format!(
                "hash_join {}{} on [{}]{} build={}",
                join_kind.name(),
                if *null_aware { " (null-aware)" } else { "" },
                on.join(", "),
                filter
                    .as_ref()
                    .map(|f| format!(" filter @{f}({})", filter_args.join(", ")))
                    .unwrap_or_default(),
                if *build == 0 { "left" } else { "right" }
            )
        }
        Operator::Match {
            column,
            match_kind,
            patterns,
        } => format!("match {column} {} {patterns:?}", match_kind.name()),
        Operator::StringFunction { function, column, args } => {
            let args: Vec<String> = std::iter::once(column.clone()).chain(args.iter().cloned()).collect();
            format!("string_function {function}({})", args.join(", "))
        }
        Operator::FlatMap {
            function,
            column,
            pattern,
        } => format!("flat_map {function}({column}, {pattern:?})"),
        Operator::Sort { keys, .. } => {
            let keys: Vec<String> = keys.iter().map(skadi_flowgraph::format_sort_key).collect();
            format!("sort [{}]", keys.join(", "))
        }
        Operator::Limit { skip, fetch } => {
            format!(
                "limit skip={skip} fetch={}",
                fetch.map_or("all".into(), |f| f.to_string())
            )
        }
        Operator::Iterate {
            training,
            body,
            args,
            threads,
            ..
        } => format!(
            "iterate {} {} @{body}({}) max_iterations={} threads={threads}",
            training.model.name(),
            training.method.name(),
            args.join(", "),
            training.max_iterations
        ),
        Operator::Sink { names } => format!("sink [{}]", names.join(", ")),
    }
}

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
            let _ = writeln!(
                out,
                "  #{id} {} ×{} on {}{loc}",
                describe(&v.op),
                v.parallelism,
                v.backend
            );
            let _ = writeln!(out, "      why: {}", v.reason);
        }
    }
    out
}
