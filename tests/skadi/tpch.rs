//! The 22 TPC-H queries on the embedded runtime against DataFusion's answers, with one
//! and four workers, and over tables split into several files.

use crate::common::{assert_same_rows, oracle, query, skadi, tpch, tpch_split};
use skadi::Session;

fn check(catalog: &std::path::Path, q: &str, workers: usize) {
    let sql = query(q);
    let session = Session::open(catalog).unwrap().with_workers(workers);
    let ours = session.sql(&sql, &format!("{q}.sql")).unwrap();
    let theirs = oracle(catalog, &sql);
    let what = format!("{q} with --workers {workers} on {}", catalog.display());
    // Every column has DataFusion's type, so decimals compare as text, digit for digit.
    let types = |b: &[arrow::record_batch::RecordBatch]| -> Vec<String> {
        b[0].schema()
            .fields()
            .iter()
            .map(|f| f.data_type().to_string())
            .collect()
    };
    assert_eq!(types(&ours.batches), types(&theirs), "{what}: column types differ");
    assert_same_rows(&ours.batches, &theirs, &what);
}

/// One test per query: one worker, four workers, four workers over split files.
macro_rules! tpch_queries {
    ($($q:ident),* $(,)?) => {
        $(
            #[test]
            fn $q() {
                let q = stringify!($q);
                check(tpch(), q, 1);
                check(tpch(), q, 4);
                check(tpch_split(), q, 4);
            }
        )*
    };
}

tpch_queries!(
    q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13, q14, q15, q16, q17, q18, q19, q20, q21, q22
);

#[test]
fn four_workers_really_shard_the_scan() {
    let session = Session::open(tpch()).unwrap().with_workers(4);
    let plan = session.compile(&query("q1"), "q1.sql").unwrap().plan;
    let scan = &plan.vertices[0];
    assert_eq!(scan.op.flatten()[0].name(), "scan");
    assert_eq!(scan.parallelism, 4, "{}", skadi::explain(&plan));
    let ops: Vec<&str> = plan
        .vertices
        .iter()
        .flat_map(|v| v.op.flatten())
        .map(|o| o.name())
        .collect();
    assert!(
        ops.contains(&"partial_aggregate") && ops.contains(&"final_aggregate"),
        "{ops:?}"
    );
}

#[test]
fn cli_runs_q6_as_csv() {
    let catalog = tpch().to_str().unwrap().to_string();
    let q6 = format!("{}/queries/tpch/q6.sql", env!("CARGO_MANIFEST_DIR"));
    let out = skadi(&["run", "--catalog", &catalog, "--workers", "2", "--format", "csv", &q6]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("revenue"));
    let value: f64 = lines.next().unwrap().parse().unwrap();
    let expected = crate::common::oracle(tpch(), &query("q6"));
    let expected = arrow::compute::cast(expected[0].column(0), &arrow::datatypes::DataType::Float64).unwrap();
    let expected = expected
        .as_any()
        .downcast_ref::<arrow::array::Float64Array>()
        .unwrap()
        .value(0);
    assert!(
        (value - expected).abs() <= 1e-6 * expected.abs(),
        "{value} vs {expected}"
    );
}

/// All 22 queries on the TPC-H data in `$SKADI_TPCH_DIR` (SF1 by scripts/check-tpch.sh),
/// with one and four workers. Ignored by default: the data is large.
#[test]
#[ignore]
fn all_queries_on_external_data() {
    let dir = std::env::var("SKADI_TPCH_DIR").expect("set SKADI_TPCH_DIR to a TPC-H directory");
    let dir = std::path::Path::new(&dir);
    for i in 1..=22 {
        for workers in [1, 4] {
            let start = std::time::Instant::now();
            check(dir, &format!("q{i}"), workers);
            eprintln!(
                "q{i} --workers {workers}: same answer as DataFusion ({:.2?})",
                start.elapsed()
            );
        }
    }
}
