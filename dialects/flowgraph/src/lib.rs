//! FlowGraph: Skadi's narrow waist. A FlowGraph is a verified MLIR module in the `flow`
//! dialect (defined in IRDL, `src/flow.irdl.mlir`, loaded into every context this crate
//! makes): `!flow.table<[...schema...]>` edges between vertex ops (`flow.source`,
//! `flow.filter`, `flow.map`, `flow.aggregate`, ...), with row computations as `func.func`
//! bodies in standard dialects (`arith`, `math`, `scf`) that vertex ops name by symbol.
//!
//! This crate owns the dialect, a text builder frontends use to emit FlowGraph, a Rust
//! view of a parsed module for passes and lowering to read, the verification walk for
//! what IRDL cannot check (schemas, body signatures), and the [`functions::RowFunction`]
//! hook through which a domain crate (skadi-ml) adds functions to frontends' expressions. It must not depend on any frontend,
//! the compiler, a backend or the runtime.

mod analysis;
mod builder;
mod context;
mod error;
pub mod functions;
mod graph;
mod rewrite;
mod syntax;
mod verify;
mod view;

pub use analysis::Bound;
pub use builder::{
    BodyBuilder, BodyFunc, FlowGraphBuilder, JoinFilter, Scalar, SourceLoc, TableValue, fault_attributes,
};
pub use context::{FLOW_IRDL, new_context};
pub use error::FlowGraphError;
pub use graph::{FlowGraph, verify_mlir};
pub use rewrite::NewOp;
pub use syntax::{attribute_text, index_lists, parse_bound, quote, string_array, table_type};
pub use view::{Body, FlowOp, GraphView, OpKind};

#[cfg(test)]
mod tests {
    use super::*;
    use skadi_common::{Column, ColumnType};

    fn loc() -> SourceLoc {
        SourceLoc {
            file: "q.sql".into(),
            line: 1,
            column: 8,
        }
    }

    fn sample(pred_result_bool: bool) -> String {
        let schema = vec![
            Column::new("l_discount", ColumnType::Float64, false),
            Column::new("l_flag", ColumnType::Utf8, false),
        ];
        let mut g = FlowGraphBuilder::new();
        let src = g.source(
            "lineitem",
            "parquet",
            &["/d/l.parquet".into()],
            &["l_discount".into(), "l_flag".into()],
            schema,
            &loc(),
        );
        let mut b = g.body("pred", vec!["f64".into()], &loc());
        let c = b.const_float(0.05, "f64");
        let r = if pred_result_bool {
            b.compare("arith.cmpf", "olt", &b.param(0), &c)
        } else {
            b.binary("arith.addf", &b.param(0), &c)
        };
        let body = b.finish(&[r]);
        let f = g.filter(src, &body, &["l_discount".into()], &loc());
        g.sink(f, &["d".into(), "f".into()], &loc());
        g.finish()
    }

    /// The view is cached per version of the module: rewrites and MLIR passes show in
    /// the next view (a body MLIR rewrote is printed again, not taken from the cache).
    #[test]
    fn views_follow_rewrites() {
        let mut graph = FlowGraph::parse(&sample(true), "q.sql").unwrap();
        let first = graph.view().unwrap();
        assert!(std::rc::Rc::ptr_eq(&first, &graph.view().unwrap()));
        let before = first.bodies.values().next().unwrap().mlir.clone();
        assert!(before.contains("0.05") || before.contains("5.000000e-02"), "{before}");
        graph.set_attribute(1, "args", r#"["lineitem.l_discount"]"#).unwrap();
        assert!(!std::rc::Rc::ptr_eq(&first, &graph.view().unwrap()));
        let generation = graph.generation();
        graph
            .add_function(
                "module {\n  func.func private @two() -> f64 {\n    %a = arith.constant 1.0 : f64\n    %b = arith.addf %a, %a : f64\n    return %b : f64\n  }\n}\n",
                "two",
                None,
            )
            .unwrap();
        assert!(graph.generation() > generation);
        assert!(graph.view().unwrap().bodies["two"].mlir.contains("arith.addf"));
        graph.run_mlir_passes("builtin.module(canonicalize)").unwrap();
        let folded = &graph.view().unwrap().bodies["two"].mlir;
        assert!(!folded.contains("arith.addf") && folded.contains("2.0"), "{folded}");
    }

    #[test]
    fn print_parse_print_is_identity() {
        let graph = FlowGraph::parse(&sample(true), "q.sql").unwrap();
        let printed = graph.print();
        let again = FlowGraph::parse(&printed, "printed").unwrap();
        assert_eq!(again.print(), printed);
        let with_locs = graph.print_with_locations();
        assert!(with_locs.contains("q.sql"), "{with_locs}");
        assert_eq!(
            FlowGraph::parse(&with_locs, "printed").unwrap().print_with_locations(),
            with_locs
        );
        let view = graph.view().unwrap();
        assert_eq!(view.ops.len(), 3);
        assert_eq!(view.ops[1].inputs, vec![0]);
        assert_eq!(view.ops[1].location.as_deref(), Some("q.sql:1:8"));
    }

    #[test]
    fn non_boolean_predicate_is_rejected_naming_the_op() {
        let err = FlowGraph::parse(&sample(false), "q.sql").unwrap_err().to_string();
        assert!(
            err.contains("'flow.filter' op predicate @pred_1 returns (f64)"),
            "{err}"
        );
        assert!(err.starts_with("q.sql:1:8"), "{err}");
    }

    #[test]
    fn missing_column_is_rejected_naming_the_op() {
        let text = sample(true).replace("args = [\"l_discount\"]", "args = [\"l_nope\"]");
        let err = FlowGraph::parse(&text, "q.sql").unwrap_err().to_string();
        assert!(err.contains("'flow.filter' op names column 'l_nope'"), "{err}");
    }

    #[test]
    fn irdl_rejects_wrong_operand_count_naming_the_op() {
        let t = r#"!flow.table<["x:i64"]>"#;
        let bad = format!(
            "module {{\n  %0 = \"flow.source\"() {{table = \"t\", format = \"csv\", files = [\"t.csv\"], columns = [\"x\"]}} : () -> {t}\n  \"flow.sink\"(%0, %0) {{names = [\"x\"]}} : ({t}, {t}) -> ()\n}}\n"
        );
        let err = FlowGraph::parse(&bad, "bad.mlir").unwrap_err().to_string();
        assert!(
            err.contains("bad.mlir:3:3: error: 'flow.sink' op expects exactly 1 operands, but got 2"),
            "{err}"
        );
    }

    #[test]
    fn irdl_rejects_a_filter_that_changes_its_table_type() {
        let (a, b) = (r#"!flow.table<["x:i64"]>"#, r#"!flow.table<["y:i64"]>"#);
        let bad = format!(
            "module {{\n  func.func private @p(%a: i64) -> i1 {{\n    %t = arith.constant true\n    return %t : i1\n  }}\n  %0 = \"flow.source\"() {{table = \"t\", format = \"csv\", files = [\"t.csv\"], columns = [\"x\"]}} : () -> {a}\n  %1 = \"flow.filter\"(%0) {{body = @p, args = [\"x\"]}} : ({a}) -> {b}\n  \"flow.sink\"(%1) {{names = [\"y\"]}} : ({b}) -> ()\n}}\n"
        );
        let err = FlowGraph::parse(&bad, "bad.mlir").unwrap_err().to_string();
        assert!(err.contains("'flow.filter' op"), "{err}");
    }
}
