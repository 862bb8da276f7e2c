//! FlowGraph from real queries: it prints, parses back to an equal module, and carries the
//! vertex ops and source locations.

use crate::common::{query, tpch};
use skadi::{FlowGraph, Session};

#[test]
fn emitted_flowgraph_parses_back_equal() {
    let session = Session::open(tpch()).unwrap();
    for q in ["q1", "q6"] {
        let graph = session.flowgraph(&query(q), &format!("{q}.sql")).unwrap();
        for printed in [graph.print(), graph.print_with_locations()] {
            let again = FlowGraph::parse(&printed, "emitted").unwrap();
            let reprinted = if printed.contains("loc(") {
                again.print_with_locations()
            } else {
                again.print()
            };
            assert_eq!(reprinted, printed, "{q}: print → parse → print changed the module");
        }
    }
}

#[test]
fn q6_flowgraph_has_a_compiled_predicate_and_locations() {
    let session = Session::open(tpch()).unwrap();
    let text = session
        .flowgraph(&query("q6"), "q6.sql")
        .unwrap()
        .print_with_locations();
    for needle in [
        "\"flow.source\"",
        "\"flow.filter\"",
        "\"flow.map\"",
        "\"flow.aggregate\"",
        "\"flow.sink\"",
        "func.func private @filter_",
        "arith.cmpf",
        "loc(\"q6.sql\":7:5)",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[test]
fn compiling_twice_gives_the_same_text() {
    let session = Session::open(tpch()).unwrap();
    let first = session
        .flowgraph(&query("q1"), "q1.sql")
        .unwrap()
        .print_with_locations();
    for _ in 0..3 {
        assert_eq!(
            session
                .flowgraph(&query("q1"), "q1.sql")
                .unwrap()
                .print_with_locations(),
            first
        );
    }
}

#[test]
fn malformed_flowgraph_from_a_real_query_is_rejected() {
    let session = Session::open(tpch()).unwrap();
    let text = session.flowgraph(&query("q6"), "q6.sql").unwrap().print();
    // The aggregate names a column its input lacks.
    let bad = text.replacen("sum(", "sum(no_such_", 1);
    let err = FlowGraph::parse(&bad, "bad.mlir").unwrap_err().to_string();
    assert!(err.contains("'flow.aggregate' op names column 'no_such_"), "{err}");
}
