//! FlowGraph from real queries: it prints, parses back to an equal module, and carries the
//! vertex ops and source locations.

use crate::common::{nulls, query, tpch};
use skadi::{FlowGraph, Session};

#[test]
fn emitted_flowgraph_parses_back_equal() {
    let session = Session::open(tpch()).unwrap();
    for q in ["q1", "q6", "q2", "q13", "q19", "q22"] {
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
        // Decimals are their scaled integers: `l_discount >= 0.05` compares integers.
        "arith.cmpi",
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

#[test]
fn the_verifier_rejects_malformed_joins() {
    let module = |join: &str| {
        format!(
            r#"module {{
  %0 = "flow.source"() {{table = "a", format = "parquet", files = ["a"], columns = ["k", "s"]}} : () -> !flow.table<["a.k:i64", "a.s:utf8"]>
  %1 = "flow.source"() {{table = "b", format = "parquet", files = ["b"], columns = ["k"]}} : () -> !flow.table<["b.k:i32"]>
  %2 = {join}
  "flow.sink"(%2) {{names = ["k", "s"]}} : (!flow.table<["a.k:i64", "a.s:utf8"]>) -> ()
}}"#
        )
    };
    let types = r#""flow.join"(%0, %1) {kind = "semi", left_keys = ["a.k"], right_keys = ["b.k"]} : (!flow.table<["a.k:i64", "a.s:utf8"]>, !flow.table<["b.k:i32"]>) -> !flow.table<["a.k:i64", "a.s:utf8"]>"#;
    let err = FlowGraph::parse(&module(types), "bad.mlir").unwrap_err().to_string();
    assert!(err.contains("key types must be equal"), "{err}");
    let kind = types.replace("\"semi\"", "\"sideways\"");
    let err = FlowGraph::parse(&module(&kind), "bad.mlir").unwrap_err().to_string();
    assert!(err.contains("join kind 'sideways'"), "{err}");
    let key = types.replace("[\"b.k\"]}", "[\"b.nope\"]}");
    let err = FlowGraph::parse(&module(&key), "bad.mlir").unwrap_err().to_string();
    assert!(err.contains("right key 'b.nope'"), "{err}");
}

#[test]
fn the_verifier_rejects_faults_and_join_validity_that_do_not_fit_their_bodies() {
    let session = Session::open(nulls("parquet")).unwrap();
    // A pipeline whose body can fail: its fault names an i1 result.
    let text = session.flowgraph("select k / x as q from t", "q.sql").unwrap().print();
    assert!(text.contains("fault = 2 : i64"), "{text}");
    FlowGraph::parse(&text, "ok.mlir").unwrap();
    let bad = text.replacen("fault = 2 : i64", "fault = 0 : i64", 1);
    let err = FlowGraph::parse(&bad, "bad.mlir").unwrap_err().to_string();
    assert!(err.contains("fails where result $0"), "{err}");
    // An outer join's three-valued condition: its validity names filter args.
    let text = session
        .flowgraph(
            "select count(*) as n from t left join u on t.k = u.k and (u.x > t.x or u.x is null)",
            "q.sql",
        )
        .unwrap()
        .print();
    assert!(text.contains("filter_validity = [0, 1]"), "{text}");
    FlowGraph::parse(&text, "ok.mlir").unwrap();
    let bad = text.replacen("filter_validity = [0, 1]", "filter_validity = [0, 5]", 1);
    let err = FlowGraph::parse(&bad, "bad.mlir").unwrap_err().to_string();
    assert!(err.contains("filter_validity"), "{err}");
}
