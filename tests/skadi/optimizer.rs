//! The optimizer end to end: every level gives the oracle's answer, -O2 runs Q1 and Q6 as
//! one fused vertex from scan to partial aggregate, and the pass options of the CLI.

use crate::common::{assert_same_rows, oracle, query, skadi, stderr, tpch};
use skadi::{Operator, OptLevel, Session};

#[test]
fn every_level_gives_the_oracles_answer() {
    for q in ["q1", "q6", "q3", "q13", "q15", "q21"] {
        let sql = query(q);
        let expected = oracle(tpch(), &sql);
        for level in [OptLevel::O0, OptLevel::O1, OptLevel::O2] {
            let session = Session::open(tpch()).unwrap().with_workers(3).with_opt_level(level);
            let ours = session.sql(&sql, &format!("{q}.sql")).unwrap();
            assert_same_rows(&ours.batches, &expected, &format!("{q} at {level:?}"));
        }
    }
}

#[test]
fn q1_and_q6_scan_to_partial_aggregate_is_one_fused_vertex() {
    for q in ["q1", "q6"] {
        let session = Session::open(tpch()).unwrap().with_workers(2);
        let plan = session.compile(&query(q), &format!("{q}.sql")).unwrap().plan;
        let first = &plan.stages[0];
        assert_eq!(
            first.vertices.len(),
            1,
            "{q}: stage 0 is one vertex\n{}",
            skadi::explain(&plan)
        );
        let Operator::Fused { steps } = &plan.vertices[first.vertices[0]].op else {
            panic!("{q}: stage 0 is not fused\n{}", skadi::explain(&plan));
        };
        let names: Vec<&str> = steps.iter().map(|s| s.op.name()).collect();
        assert_eq!(names, ["scan", "pipeline", "partial_aggregate"], "{q}");
        let explain = skadi::explain(&plan);
        assert!(explain.contains("#0 fused [scan lineitem"), "{explain}");
        // The pipeline's one body is the fused function, and the plan carries only it.
        let Operator::Pipeline(skadi::operators::Pipeline { body, .. }) = &steps[1].op else {
            unreachable!()
        };
        assert_eq!(
            plan.bodies.len(),
            1,
            "{q}: {:?}",
            plan.bodies.iter().map(|b| &b.name).collect::<Vec<_>>()
        );
        assert_eq!(&plan.bodies[0].name, body);
        // Unfused, the same query has a vertex per operator.
        let o0 = Session::open(tpch())
            .unwrap()
            .with_workers(2)
            .with_opt_level(OptLevel::O0);
        let plan = o0.compile(&query(q), &format!("{q}.sql")).unwrap().plan;
        assert!(
            plan.stages[0].vertices.len() >= 3,
            "{q} at -O0\n{}",
            skadi::explain(&plan)
        );
    }
}

#[test]
fn cli_prints_after_every_pass_and_times_them() {
    let c = tpch().to_str().unwrap().to_string();
    // Q3: three tables, two joins.
    let q3 = format!("{}/queries/tpch/q3.sql", env!("CARGO_MANIFEST_DIR"));
    let out = skadi(&["compile", "-c", &c, &q3, "--print-after-all", "--time-passes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let dumps: Vec<&str> = OptLevel::O2.pipeline();
    for pass in &dumps {
        assert!(
            err.contains(&format!("FlowGraph after {pass} //")),
            "no dump after {pass}:\n{err}"
        );
    }
    assert!(err.contains("Skadi pass timing") && err.contains("total"), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"flow.pipeline\""), "{stdout}");
    assert_eq!(stdout.matches("\"flow.join\"").count(), 2, "{stdout}");
    let q1 = format!("{}/queries/tpch/q1.sql", env!("CARGO_MANIFEST_DIR"));

    let out = skadi(&["compile", "-c", &c, &q1, "--passes", "prune-columns,nope"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown pass 'nope'"), "{}", stderr(&out));

    // Nothing is fused at -O0 (Q1's map can overflow, so it is a pipeline of its own).
    let out = skadi(&["compile", "-c", &c, &q1, "-O", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("@fused_"));

    let out = skadi(&["passes"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for pass in skadi_compiler::passes::all_passes() {
        assert!(text.contains(pass.name()), "{text}");
    }
}

/// A Parquet table sorted by `id`, in ten row groups of 1000 rows.
fn sorted_table() -> tempfile::TempDir {
    use arrow::{
        array::{Decimal128Array, Float64Array, Int64Array},
        datatypes::{DataType, Field, Schema},
        record_batch::RecordBatch,
    };
    use parquet::{arrow::ArrowWriter, file::properties::WriterProperties};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("v", DataType::Float64, false),
        Field::new("d", DataType::Decimal128(10, 2), false),
    ]));
    let ids: Vec<i64> = (0..10_000).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(Float64Array::from_iter_values(
                ids.iter().map(|&i| (i % 97) as f64 * 0.5),
            )),
            Arc::new(
                Decimal128Array::from_iter_values(ids.iter().map(|&i| i as i128))
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(dir.path().join("readings.parquet")).unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    dir
}

#[test]
fn pushed_down_predicates_skip_row_groups_and_keep_the_answer() {
    let dir = sorted_table();
    for (sql, groups) in [
        ("select sum(v), count(*) from readings where id >= 8500", 2),
        ("select sum(v) from readings where d < 12.5 and v > 1", 2),
        ("select count(*) from readings where 4200 = id", 1),
        ("select sum(v) from readings where id < 0", 0),
    ] {
        let session = Session::open(dir.path()).unwrap().with_workers(2);
        let compiled = session.compile(sql, "q.sql").unwrap();
        let explain = skadi::explain(&compiled.plan);
        assert!(
            explain.contains(&format!(
                "{groups} row groups in 1 file(s) ({} more ruled out",
                10 - groups
            )),
            "{sql}\n{explain}"
        );
        let ours = session.run_plan(&compiled.plan, None).unwrap();
        assert_same_rows(&ours.batches, &oracle(dir.path(), sql), sql);
        // Unoptimized, every row group is read, to the same answer.
        let o0 = Session::open(dir.path()).unwrap().with_opt_level(OptLevel::O0);
        assert_same_rows(&o0.sql(sql, "q.sql").unwrap().batches, &ours.batches, sql);
    }
}

/// TPC-H Q15 reads the revenue view twice (the join and the max); `cse` makes it one
/// subgraph, so lineitem is scanned and aggregated once, and the answer stays DataFusion's.
#[test]
fn q15_computes_its_repeated_subquery_once() {
    let count = |level: OptLevel, op: &str| {
        let session = Session::open(tpch()).unwrap().with_workers(2).with_opt_level(level);
        let plan = session.compile(&query("q15"), "q15.sql").unwrap().plan;
        plan.vertices
            .iter()
            .flat_map(|v| v.op.flatten())
            .filter(|o| match o {
                skadi::Operator::Scan(scan) => op == "scan" && scan.table == "lineitem",
                other => other.name() == op,
            })
            .count()
    };
    assert_eq!(count(OptLevel::O0, "scan"), 2);
    assert_eq!(count(OptLevel::O2, "scan"), 1);
    assert_eq!(
        count(OptLevel::O2, "final_aggregate"),
        count(OptLevel::O0, "final_aggregate") - 1
    );
    let session = Session::open(tpch()).unwrap().with_workers(2);
    let ours = session.sql(&query("q15"), "q15.sql").unwrap();
    crate::common::assert_same_rows(
        &ours.batches,
        &crate::common::oracle(tpch(), &query("q15")),
        "q15 at -O2",
    );
}
