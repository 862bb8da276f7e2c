//! Other forms of a physical plan: Graphviz DOT, a self-contained HTML page (`skadi viz`),
//! and an MLIR module of the sharded graph (`--emit physical`).

use crate::explain::partitioning;
use skadi_common::{PhysicalPlan, Vertex};
use skadi_flowgraph::{FlowGraphError, quote, string_array, table_type};
use std::fmt::Write;

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The plan as a Graphviz digraph: a cluster per stage, a node per vertex (operator,
/// parallelism, backend), edges labelled with their partitioning.
pub fn to_dot(plan: &PhysicalPlan) -> String {
    let mut out =
        String::from("digraph plan {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n");
    for stage in &plan.stages {
        let _ = writeln!(
            out,
            "  subgraph cluster_stage{} {{\n    label=\"stage {} — {} shard(s)\";\n    style=rounded;",
            stage.id, stage.id, stage.parallelism
        );
        for &id in &stage.vertices {
            let v = &plan.vertices[id];
            let label = format!("#{id} {}\n×{} on {}", v.op, v.parallelism, v.backend);
            let _ = writeln!(out, "    v{id} [label=\"{}\"];", dot_escape(&label));
        }
        out.push_str("  }\n");
    }
    for v in &plan.vertices {
        for e in &v.inputs {
            let style = if e.partitioning.is_exchange() { "bold" } else { "solid" };
            let _ = writeln!(
                out,
                "  v{} -> v{} [label=\"{}\", style={style}];",
                e.from,
                v.id,
                dot_escape(&partitioning(&e.partitioning))
            );
        }
    }
    out.push_str("}\n");
    out
}

/// A self-contained HTML page drawing the plan: stages as columns, vertices as boxes with
/// their parallelism, edges with their partitioning; clicking a vertex shows its details
/// and the MLIR of the bodies it calls. It loads nothing from the network.
pub fn to_html(plan: &PhysicalPlan, title: &str) -> String {
    #[derive(serde::Serialize)]
    struct Node<'a> {
        id: usize,
        stage: usize,
        label: String,
        parallelism: usize,
        backend: &'a str,
        reason: &'a str,
        location: Option<&'a str>,
        bodies: Vec<&'a str>,
        schema: Vec<String>,
    }
    #[derive(serde::Serialize)]
    struct Link {
        from: usize,
        to: usize,
        label: String,
        exchange: bool,
    }
    let nodes: Vec<Node> = plan
        .vertices
        .iter()
        .map(|v: &Vertex| Node {
            id: v.id,
            stage: v.stage,
            label: v.op.to_string(),
            parallelism: v.parallelism,
            backend: &v.backend,
            reason: &v.reason,
            location: v.location.as_deref(),
            bodies: v.op.flatten().iter().filter_map(|o| o.body()).collect(),
            schema: v.schema.iter().map(|c| c.to_type_entry()).collect(),
        })
        .collect();
    let links: Vec<Link> = plan
        .vertices
        .iter()
        .flat_map(|v| {
            v.inputs.iter().map(move |e| Link {
                from: e.from,
                to: v.id,
                label: partitioning(&e.partitioning),
                exchange: e.partitioning.is_exchange(),
            })
        })
        .collect();
    let bodies: std::collections::BTreeMap<&str, &str> =
        plan.bodies.iter().map(|b| (b.name.as_str(), b.mlir.as_str())).collect();
    let data = serde_json::json!({ "nodes": nodes, "links": links, "bodies": bodies, "stages": plan.stages.len() });
    // `</` cannot appear inside the script element.
    let data = data.to_string().replace("</", "<\\/");
    let title = title.replace('&', "&amp;").replace('<', "&lt;");
    HTML.replace("{{TITLE}}", &title).replace("{{DATA}}", &data)
}

/// The page; `{{TITLE}}` and `{{DATA}}` (the plan as JSON) are filled in.
const HTML: &str = include_str!("viz.html");

/// The sharded graph as an MLIR module: the plan's bodies, then one `flow.vertex` per
/// vertex reading its input vertices' tables, with its backend, parallelism, stage, the
/// partitioning of each input edge and the operator (as JSON). Verified by MLIR.
pub fn to_mlir(plan: &PhysicalPlan) -> Result<String, FlowGraphError> {
    let mut out = String::from("module {\n");
    for b in &plan.bodies {
        for line in b.mlir.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    for v in &plan.vertices {
        let inputs: Vec<String> = v.inputs.iter().map(|e| format!("%v{}", e.from)).collect();
        let input_types: Vec<String> = v
            .inputs
            .iter()
            .map(|e| table_type(&plan.vertices[e.from].schema))
            .collect();
        let edges: Vec<String> = v.inputs.iter().map(|e| partitioning(&e.partitioning)).collect();
        let bodies: Vec<String> =
            v.op.flatten()
                .iter()
                .filter_map(|o| o.body())
                .map(|b| format!("@{b}"))
                .collect();
        let operator = serde_json::to_string(&v.op).expect("operators serialize");
        let _ = writeln!(
            out,
            "  %v{id} = \"flow.vertex\"({}) {{id = {id} : i64, op = {}, backend = {}, parallelism = {} : i64, stage = {} : i64, edges = {}, bodies = [{}], operator = {}, reason = {}, operandSegmentSizes = array<i32: {}, {}>}} : ({}) -> {}",
            inputs.join(", "),
            quote(v.op.name()),
            quote(&v.backend),
            v.parallelism,
            v.stage,
            string_array(&edges),
            bodies.join(", "),
            quote(&operator),
            quote(&v.reason),
            v.inputs.len().min(1),
            v.inputs.len().saturating_sub(1),
            input_types.join(", "),
            table_type(&v.schema),
            id = v.id,
        );
    }
    let _ = writeln!(
        out,
        "  \"flow.output\"(%v{}) : ({}) -> ()",
        plan.output,
        table_type(&plan.vertices[plan.output].schema)
    );
    out.push_str("}\n");
    skadi_flowgraph::verify_mlir(&out, "<physical plan>")
}
