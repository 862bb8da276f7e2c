//! Plans from other engines: the 22 TPC-H queries round-tripped through Substrait
//! (SQL → Substrait protobuf → Skadi's plan → rows, against DataFusion's answers), a
//! hand-written plan with a correlated subquery (tests/substrait/), an engine's own
//! DataFusion logical plan compiled as it is, the CLI's `--substrait` and `--emit
//! substrait`, and bad Substrait input.

use crate::common::{assert_same_rows, fails_with, oracle, query, skadi, stderr, tpch};
use skadi::{Session, Source, SourceKind, SubstraitEncoding};

/// SQL → Substrait (protobuf or JSON) → a source of its own → Skadi's plan → rows.
fn round_trip(q: &str, encoding: SubstraitEncoding, workers: usize) {
    let sql = query(q);
    let session = Session::open(tpch()).unwrap().with_workers(workers);
    let bytes = session.substrait(&sql, &format!("{q}.sql"), encoding).unwrap();
    let source = Source::substrait(&bytes, format!("{q}.substrait")).unwrap();
    assert_eq!(source.kind, SourceKind::Substrait);
    let compiled = session.compile_source(&source, |_, _| {}).unwrap();
    let ours = session.run_plan(&compiled.plan, None).unwrap();
    assert_same_rows(
        &ours.batches,
        &oracle(tpch(), &sql),
        &format!("{q} through Substrait ({encoding:?}) with --workers {workers}"),
    );
}

macro_rules! tpch_round_trips {
    ($($q:ident),* $(,)?) => {
        mod tpch_round_trip {
            use super::*;
            $(
                #[test]
                fn $q() {
                    round_trip(stringify!($q), SubstraitEncoding::Binary, 4);
                }
            )*
        }
    };
}

tpch_round_trips!(
    q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13, q14, q15, q16, q17, q18, q19, q20, q21, q22
);

#[test]
fn json_plans_round_trip_too() {
    for q in ["q4", "q13", "q22"] {
        round_trip(q, SubstraitEncoding::Json, 1);
    }
}

/// A plan written as another engine sends one, not by DataFusion's producer: a
/// correlated EXISTS (an outer reference into the filtered table), which DataFusion's
/// optimizer decorrelates as it does SQL's.
#[test]
fn a_correlated_subquery_from_another_engine() {
    let path = format!("{}/tests/substrait/correlated-exists.json", env!("CARGO_MANIFEST_DIR"));
    let source = Source::substrait(&std::fs::read(&path).unwrap(), path.as_str()).unwrap();
    assert!(source.text.contains("outerReference"), "{}", source.text);
    let session = Session::open(tpch()).unwrap().with_workers(2);
    let compiled = session.compile_source(&source, |_, _| {}).unwrap();
    let ours = session.run_plan(&compiled.plan, None).unwrap();
    let sql = "select n_nationkey, n_name, n_regionkey from nation \
               where exists (select * from region where r_regionkey = n_regionkey and r_name = 'ASIA') \
               order by n_nationkey";
    assert_same_rows(&ours.batches, &oracle(tpch(), sql), "a correlated EXISTS in Substrait");
}

/// An embedding engine's own plan: DataFusion's optimized logical plan over its own
/// tables (Parquet listing tables), compiled by table name against Skadi's catalog.
#[test]
fn an_engines_logical_plan_compiles_as_it_is() {
    let peer = skadi_workloads::peer::DataFusionPeer::open(tpch(), 2).unwrap();
    let session = Session::open(tpch()).unwrap().with_workers(2);
    for q in ["q3", "q18"] {
        let sql = query(q);
        let plan = peer.logical_plan(&sql).unwrap();
        let compiled = session.compile_logical_plan(&plan, q).unwrap();
        let ours = session.run_plan(&compiled.plan, None).unwrap();
        assert_same_rows(&ours.batches, &oracle(tpch(), &sql), &format!("{q} as a LogicalPlan"));
    }
}

#[test]
fn cli_emits_substrait_and_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = tpch().to_str().unwrap();
    let q3 = format!("{}/queries/tpch/q3.sql", env!("CARGO_MANIFEST_DIR"));
    let plan = dir.path().join("q3.substrait");
    let plan = plan.to_str().unwrap();
    let out = skadi(&["compile", "-c", catalog, &q3, "--emit", "substrait", "-o", plan]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = |args: &[&str]| {
        let out = skadi(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let through_substrait = run(&["run", "-c", catalog, "--substrait", plan, "--format", "csv"]);
    let from_sql = run(&["run", "-c", catalog, &q3, "--format", "csv"]);
    assert_eq!(through_substrait, from_sql);
    assert_eq!(through_substrait.lines().count(), 11, "{through_substrait}");

    let json = run(&["compile", "-c", catalog, &q3, "--emit", "substrait-json"]);
    assert!(json.contains("\"relations\""), "{json}");
    let explained = run(&["explain", "-c", catalog, "--substrait", plan]);
    assert!(explained.contains("hash_join"), "{explained}");
}

#[test]
fn bad_substrait_fails_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = tpch().to_str().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    };
    let garbage = write("garbage.substrait", &[0xff, 0x01, 0x02, 0x03]);
    fails_with(
        &["run", "-c", catalog, "--substrait", &garbage],
        &["not a Substrait plan"],
    );
    let broken = write("broken.json", b"{\n  \"relations\": [\n    { \"root\": 7 }\n");
    fails_with(
        &["run", "-c", catalog, "--substrait", &broken],
        &["broken.json:3:", "not a Substrait plan in JSON"],
    );
    // A plan over a table this catalog lacks names the table.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(tpch().join("nation.parquet"), other.path().join("nation.parquet")).unwrap();
    let q5 = format!("{}/queries/tpch/q5.sql", env!("CARGO_MANIFEST_DIR"));
    let plan = dir.path().join("q5.substrait");
    let plan = plan.to_str().unwrap();
    let out = skadi(&["compile", "-c", catalog, &q5, "--emit", "substrait", "-o", plan]);
    assert!(out.status.success(), "{}", stderr(&out));
    fails_with(
        &["run", "-c", other.path().to_str().unwrap(), "--substrait", plan],
        &["customer"],
    );
    fails_with(
        &["compile", "--flowgraph", &broken, "--emit", "substrait"],
        &["--emit substrait needs SQL input"],
    );
}
