//! ML pipelines: models trained by `flow.iterate` checked against references computed here
//! (least squares by QR, logistic regression and Lloyd's algorithm written out plainly),
//! a pipeline over TPC-H lineitem whose scores are checked against its model applied
//! here, the examples, and bad specs.

#![allow(clippy::needless_range_loop)] // the references index rows and columns as the math does

use crate::common::{stderr, tpch};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};
use std::path::Path;

/// A numeric column as f64s.
fn f64s(column: &ArrayRef) -> Float64Array {
    arrow::compute::cast(column, &DataType::Float64)
        .unwrap()
        .as_primitive::<Float64Type>()
        .clone()
}

/// Columns of a Parquet file as f64 vectors.
fn read_columns(path: &Path, names: &[&str]) -> Vec<Vec<f64>> {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut out = vec![Vec::new(); names.len()];
    for b in reader {
        let b = b.unwrap();
        for (o, n) in out.iter_mut().zip(names) {
            o.extend(f64s(b.column_by_name(n).unwrap()).values().iter());
        }
    }
    out
}

fn value(batches: &[RecordBatch], name: &str) -> f64 {
    let b = &batches[0];
    f64s(b.column_by_name(name).unwrap()).value(0)
}

/// Least squares of y on (1, x) by Householder QR: the reference for the normal equations.
fn least_squares(x: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let n = y.len();
    let m = x.len() + 1;
    let mut a: Vec<Vec<f64>> = std::iter::once(vec![1.0; n]).chain(x.iter().cloned()).collect(); // columns
    let mut b = y.to_vec();
    for k in 0..m {
        let norm = (k..n).map(|i| a[k][i] * a[k][i]).sum::<f64>().sqrt();
        let alpha = if a[k][k] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (0..n).map(|i| if i < k { 0.0 } else { a[k][i] }).collect();
        v[k] -= alpha;
        let vv: f64 = v.iter().map(|t| t * t).sum();
        for col in a.iter_mut().skip(k).chain(std::iter::once(&mut b)) {
            let dot: f64 = (k..n).map(|i| v[i] * col[i]).sum();
            for i in k..n {
                col[i] -= 2.0 * dot / vv * v[i];
            }
        }
    }
    let mut w = vec![0.0; m];
    for i in (0..m).rev() {
        let s: f64 = (i + 1..m).map(|j| a[j][i] * w[j]).sum();
        w[i] = (b[i] - s) / a[i][i];
    }
    w
}

fn ml_data(rows: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    skadi_workloads::corpus::generate_ml(&dir.path().join("ml"), rows, 3, 3, 7).unwrap();
    dir
}

fn run_pipeline(dir: &Path, spec: &str) -> Vec<RecordBatch> {
    let spec = spec.replace("TABLES", &dir.join("ml").display().to_string());
    let session = skadi::Session::without_catalog().with_workers(2);
    let (result, _) = session.pipeline(&spec, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    result.batches
}

const LINEAR: &str = r#"
[pipeline]
tables = "TABLES"
[[step]]
name = "points"
sql = "SELECT x1, x2, x3, y FROM linear"
[[step]]
name = "m"
train = "linear_regression"
features = ["x1", "x2", "x3"]
label = "y"
"#;

#[test]
fn linear_regression_matches_least_squares() {
    let dir = ml_data(20_000);
    let cols = read_columns(&dir.path().join("ml/linear.parquet"), &["x1", "x2", "x3", "y"]);
    let reference = least_squares(&cols[..3], &cols[3]);
    let names = ["m.intercept", "m.x1", "m.x2", "m.x3"];
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-12);

    let exact = run_pipeline(dir.path(), LINEAR);
    for (n, r) in names.iter().zip(&reference) {
        assert!(rel(value(&exact, n), *r) < 1e-6, "{n}: {} vs {r}", value(&exact, n));
    }
    assert_eq!(value(&exact, "m.rows"), 20_000.0);

    let gd = LINEAR.replace(
        "label = \"y\"",
        "label = \"y\"\nmethod = \"gradient_descent\"\nlearning_rate = 0.5\nmax_iterations = 5000\ntolerance = 1e-9",
    );
    let gd = run_pipeline(dir.path(), &gd);
    assert!(value(&gd, "m.iterations") < 5000.0, "gradient descent converged");
    for (n, r) in names.iter().zip(&reference) {
        assert!(rel(value(&gd, n), *r) < 1e-3, "{n}: {} vs {r}", value(&gd, n));
    }
}

#[test]
fn logistic_regression_matches_a_reference_implementation() {
    let dir = ml_data(20_000);
    let cols = read_columns(&dir.path().join("ml/logistic.parquet"), &["x1", "x2", "x3", "label"]);
    let (lr, iterations) = (2.0, 300);
    // Reference: full-batch gradient descent on the mean log loss, written out plainly.
    let n = cols[3].len();
    let mut w = [0.0f64; 4];
    for _ in 0..iterations {
        let mut g = [0.0f64; 4];
        for i in 0..n {
            let z = w[0] + w[1] * cols[0][i] + w[2] * cols[1][i] + w[3] * cols[2][i];
            let e = 1.0 / (1.0 + (-z).exp()) - cols[3][i];
            g[0] += e;
            for j in 0..3 {
                g[j + 1] += e * cols[j][i];
            }
        }
        for j in 0..4 {
            w[j] -= lr * g[j] / n as f64;
        }
    }
    let accuracy = |w: &[f64]| {
        let right = (0..n)
            .filter(|&i| {
                let z = w[0] + w[1] * cols[0][i] + w[2] * cols[1][i] + w[3] * cols[2][i];
                (z > 0.0) == (cols[3][i] > 0.5)
            })
            .count();
        right as f64 / n as f64
    };
    let spec = r#"
[pipeline]
tables = "TABLES"
[[step]]
name = "rows"
sql = "SELECT x1, x2, x3, label FROM logistic"
[[step]]
name = "m"
train = "logistic_regression"
features = ["x1", "x2", "x3"]
label = "label"
learning_rate = 2.0
max_iterations = 300
tolerance = 0.0
"#;
    let got = run_pipeline(dir.path(), spec);
    let ours: Vec<f64> = ["m.intercept", "m.x1", "m.x2", "m.x3"]
        .iter()
        .map(|n| value(&got, n))
        .collect();
    for (a, b) in ours.iter().zip(&w) {
        assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{ours:?} vs {w:?}");
    }
    let (a, r) = (accuracy(&ours), accuracy(&w));
    assert!(a >= r && a > 0.97, "accuracy {a} vs reference {r}");
}

#[test]
fn kmeans_inertia_matches_reference_lloyd() {
    let dir = ml_data(20_000);
    let cols = read_columns(&dir.path().join("ml/blobs.parquet"), &["x1", "x2", "x3"]);
    let n = cols[0].len();
    let start: Vec<Vec<f64>> = (0..3).map(|r| cols.iter().map(|c| c[r]).collect()).collect();
    // Reference Lloyd from the same centroids, until assignments stop changing.
    let mut centroids = start.clone();
    let mut inertia = 0.0;
    for _ in 0..300 {
        let mut sums = vec![vec![0.0; 3]; 3];
        let mut counts = [0usize; 3];
        inertia = 0.0;
        for i in 0..n {
            let (best, d) = (0..3)
                .map(|c| (c, (0..3).map(|j| (cols[j][i] - centroids[c][j]).powi(2)).sum::<f64>()))
                .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
            inertia += d;
            counts[best] += 1;
            for j in 0..3 {
                sums[best][j] += cols[j][i];
            }
        }
        let next: Vec<Vec<f64>> = (0..3)
            .map(|c| (0..3).map(|j| sums[c][j] / counts[c].max(1) as f64).collect())
            .collect();
        if next == centroids {
            break;
        }
        centroids = next;
    }
    let init: Vec<String> = start
        .iter()
        .map(|c| {
            format!(
                "[{}]",
                c.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    let spec = format!(
        r#"
[pipeline]
tables = "TABLES"
[[step]]
name = "points"
sql = "SELECT x1, x2, x3 FROM blobs"
[[step]]
name = "k"
train = "kmeans"
features = ["x1", "x2", "x3"]
centroids = [{}]
"#,
        init.join(", ")
    );
    let got = run_pipeline(dir.path(), &spec);
    let ours = value(&got, "k.loss");
    assert!(
        (ours - inertia).abs() / inertia < 0.01,
        "inertia {ours} vs reference {inertia}"
    );
}

/// `examples/pipelines/NAME` reading the test's TPC-H data, without its `output` line.
fn lineitem_example(name: &str, output: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/pipelines")
            .join(name),
    )
    .unwrap()
    .replace("data/tpch-sf0.1", &tpch().display().to_string())
    .replace(&format!("output = {output:?}"), "")
}

/// The pipeline's result, and its model: the same pipeline cut before its "scored" step,
/// so that its last step is the train step.
fn result_and_model(spec: &str, name: &str, workers: usize) -> (skadi::QueryResult, skadi::QueryResult) {
    let session = skadi::Session::without_catalog().with_workers(workers);
    let (result, _) = session.pipeline(spec, name).unwrap_or_else(|e| panic!("{e}"));
    let cut = spec.find("[[step]]\nname = \"scored\"").unwrap();
    let (model, info) = session.pipeline(&spec[..cut], name).unwrap();
    assert!(info.model.is_some());
    (result, model)
}

/// SQL over lineitem → linear regression → SQL scoring, as one graph: the scores equal
/// the trained model applied here, and explain shows the features fused into training.
#[test]
fn pipeline_trains_and_scores_lineitem_in_one_graph() {
    let spec = lineitem_example("price-model.toml", "out/price-scored.csv");
    let (scored, model) = result_and_model(&spec, "price-model.toml", 3);
    let w: Vec<f64> = [
        "price.intercept",
        "price.quantity",
        "price.discount_pct",
        "price.tax_pct",
    ]
    .iter()
    .map(|n| value(&model.batches, n))
    .collect();
    let mut rows = 0;
    for b in &scored.batches {
        let col = |n: &str| f64s(b.column_by_name(n).unwrap());
        let (price, predicted) = (col("l_extendedprice"), col("predicted"));
        assert_eq!(predicted.null_count(), 0);
        rows += b.num_rows();
        for i in 0..b.num_rows() {
            assert!(price.value(i) > 0.0);
            let p = predicted.value(i);
            assert!(p.is_finite());
        }
    }
    assert_eq!(rows, 20);
    // Check the scores against the model applied to the same rows, read with DataFusion.
    let oracle = crate::common::oracle(
        tpch(),
        "SELECT l_quantity, l_discount * 100, l_tax * 100 FROM lineitem WHERE l_shipmode IN ('AIR', 'MAIL') \
         ORDER BY l_orderkey, l_linenumber LIMIT 20",
    );
    let mut expected = Vec::new();
    for b in &oracle {
        let c: Vec<_> = (0..3).map(|j| f64s(b.column(j))).collect();
        for i in 0..b.num_rows() {
            expected.push(w[0] + w[1] * c[0].value(i) + w[2] * c[1].value(i) + w[3] * c[2].value(i));
        }
    }
    let got: Vec<f64> = scored
        .batches
        .iter()
        .flat_map(|b| f64s(b.column_by_name("predicted").unwrap()).values().to_vec())
        .collect();
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() <= 1e-9 * e.abs().max(1.0), "{g} vs {e}");
    }

    // One graph; the features' SQL is computed inside the training step.
    let dir = tempfile::tempdir().unwrap();
    let plan = skadi_on_spec(dir.path(), "price-model.toml", &spec, "explain");
    let iterate = plan.lines().find(|l| l.contains("iterate linear_regression")).unwrap();
    assert!(
        iterate.contains("@fused_") && iterate.contains("lineitem.l_discount") && iterate.contains("lineitem.l_tax"),
        "{plan}"
    );
}

/// Writes `spec` as `dir/name` and runs `skadi COMMAND` on it; returns its standard output.
fn skadi_on_spec(dir: &Path, name: &str, spec: &str, command: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, spec).unwrap();
    let o = crate::common::skadi(&[command, path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// SQL features → linear regression → SQL scoring → a MapReduce report, one graph: the
/// report equals DataFusion's over the same rows with the trained coefficients written into
/// its SQL, and explain shows the scoring SQL fused with the report's map steps.
#[test]
fn pipeline_with_mapreduce_report_matches_datafusion() {
    let spec = lineitem_example("price-report.toml", "out/price-report.csv");
    let (report, model) = result_and_model(&spec, "price-report.toml", 2);
    let w: Vec<String> = ["intercept", "quantity", "discount_pct", "tax_pct"]
        .iter()
        .map(|n| format!("CAST({:?} AS DOUBLE)", value(&model.batches, &format!("price.{n}"))))
        .collect();
    let predicted = format!(
        "{} + {} * l_quantity + {} * (l_discount * 100) + {} * (l_tax * 100)",
        w[0], w[1], w[2], w[3]
    );
    let oracle = crate::common::oracle(
        tpch(),
        &format!(
            "SELECT lower(l_shipmode) AS mode, count(*), avg(abs(l_extendedprice - p)), \
             max(abs(l_extendedprice - p)), sum(CASE WHEN p > l_extendedprice THEN 1 ELSE 0 END) \
             FROM (SELECT l_shipmode, CAST(l_extendedprice AS DOUBLE) AS l_extendedprice, {predicted} AS p \
                   FROM lineitem WHERE l_shipdate >= DATE '1997-01-01') \
             GROUP BY lower(l_shipmode) ORDER BY mode"
        ),
    );
    let rows = |batches: &[RecordBatch]| -> Vec<(String, Vec<f64>)> {
        batches
            .iter()
            .flat_map(|b| {
                let mode = arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
                let values: Vec<Float64Array> = (1..5).map(|j| f64s(b.column(j))).collect();
                (0..b.num_rows())
                    .map(|i| {
                        let m = mode.as_string::<i32>().value(i).to_string();
                        (m, values.iter().map(|v| v.value(i)).collect())
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (got, expected) = (rows(&report.batches), rows(&oracle));
    assert_eq!(got.len(), 7, "{got:?}");
    assert_eq!(got.len(), expected.len());
    for ((gm, g), (em, e)) in got.iter().zip(&expected) {
        assert_eq!(gm, em);
        for (a, b) in g.iter().zip(e) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{gm}: {g:?} vs {e:?}");
        }
    }

    // The CLI writes the report where the spec says.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("report.csv");
    let with_output = spec.replace(
        "order = [\"mode\"]",
        &format!("order = [\"mode\"]\noutput = {:?}", csv.display().to_string()),
    );
    skadi_on_spec(dir.path(), "price-report.toml", &with_output, "run");
    let written = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(written.lines().count(), 8, "{written}");
    assert!(
        written.starts_with("mode,rows,mean_abs_error,max_abs_error,over_rows"),
        "{written}"
    );

    // One graph: the features' SQL inside training, the scoring SQL inside the report's map.
    let plan = skadi_on_spec(dir.path(), "price-report.toml", &spec, "explain");
    let iterate = plan.lines().find(|l| l.contains("iterate linear_regression")).unwrap();
    assert!(
        iterate.contains("@fused_") && iterate.contains("lineitem.l_shipdate"),
        "{plan}"
    );
    let report = plan.lines().find(|l| l.contains("string_function lower")).unwrap();
    assert!(
        report.contains("@fused_") && report.contains("price.intercept") && report.contains("partial_aggregate"),
        "{plan}"
    );
}

/// Each ML example runs with the CLI on data `skadi gen ml` made, and writes its model.
#[test]
fn ml_examples_run_on_generated_data() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let cli = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_skadi"))
            .current_dir(cwd)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    cli(&["gen", "ml", "--out", "data/ml", "--rows", "20000"]);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ml");
    let truth = skadi_workloads::corpus::true_coefficients(3);
    for (example, model) in [
        ("linear-regression.toml", "linear-model.json"),
        ("linear-regression-gd.toml", "linear-gd-model.json"),
        ("logistic-regression.toml", "logistic-model.json"),
        ("kmeans.toml", "kmeans-model.json"),
    ] {
        cli(&["run", examples.join(example).to_str().unwrap()]);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(cwd.join("out").join(model)).unwrap()).unwrap();
        match doc["model"].as_str().unwrap() {
            "linear_regression" => {
                assert!((doc["intercept"].as_f64().unwrap() - truth[0]).abs() < 0.01, "{doc}");
                for (j, f) in ["x1", "x2", "x3"].iter().enumerate() {
                    assert!(
                        (doc["coefficients"][f].as_f64().unwrap() - truth[j + 1]).abs() < 0.01,
                        "{doc}"
                    );
                }
            }
            "logistic_regression" => {
                // Separable data: the boundary's direction matches the generating one.
                let w: Vec<f64> = ["x1", "x2", "x3"]
                    .iter()
                    .map(|f| doc["coefficients"][f].as_f64().unwrap())
                    .collect();
                let scale = doc["intercept"].as_f64().unwrap() / truth[0];
                for (j, v) in w.iter().enumerate() {
                    assert!((v / scale - truth[j + 1]).abs() < 0.5, "{doc}");
                }
            }
            _ => {
                let centroids = doc["centroids"].as_array().unwrap();
                assert_eq!(centroids.len(), 3);
                for c in 0..3 {
                    let near = centroids.iter().any(|k| {
                        (0..3)
                            .all(|j| (k[j].as_f64().unwrap() - skadi_workloads::corpus::blob_center(c, j)).abs() < 0.2)
                    });
                    assert!(near, "blob {c} has no centroid near it: {doc}");
                }
            }
        }
    }
}

#[test]
fn bad_pipeline_specs_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let head = format!("[pipeline]\ntables = {:?}\n", tpch().display().to_string());
    let cases = [
        (
            "[[step]]\nname = \"m\"\ntrain = \"svm\"\nfeatures = [\"x\"]\n",
            "5:9",
            "not supported yet: model 'svm'",
        ),
        (
            "[[step]]\nname = \"a\"\nsql = \"SELECT l_tax AS x, l_quantity AS y FROM lineitem\"\n[[step]]\nname = \"m\"\ntrain = \"linear_regression\"\nfeatures = [\"z\"]\nlabel = \"y\"\n",
            "9:13",
            "no column 'z'",
        ),
        (
            "[[step]]\nname = \"a\"\nsql = \"SELECT predict('nope', l_tax) AS p FROM lineitem\"\n",
            "5:31",
            "no model 'nope'",
        ),
        (
            "[[step]]\nname = \"a\"\nsqll = \"SELECT 1\"\n",
            "5:1",
            "unknown field `sqll`",
        ),
        (
            "[[step]]\nname = \"a\"\nsql = \"SELECT l_tax FROM lineitem\"\nlabel = \"l_tax\"\n",
            "6:9",
            "`label` does not apply to a sql step",
        ),
        (
            "[[step]]\nname = \"a\"\nsql = \"SELECT l_tax FROM lineitem\"\n[[step]]\nname = \"r\"\n[step.reduce]\nkey = [\"l_taxx\"]\nvalues = { n = \"count(*)\" }\n",
            "9:8",
            "no column 'l_taxx'",
        ),
        (
            "[[step]]\nname = \"a\"\nsql = \"SELECT 1 AS x\"\ntrain = \"kmeans\"\n",
            "3:1",
            "a step is one of",
        ),
    ];
    for (spec, at, message) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, format!("{head}{spec}")).unwrap();
        let o = crate::common::skadi(&["run", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{spec}");
        let err = stderr(&o);
        assert!(
            err.contains(&format!("bad.toml:{at}")) && err.contains(message),
            "{spec}\n{err}"
        );
    }
}

/// `skadi bench linreg` runs end to end on small generated data (the epoch times are
/// printed, never asserted; NumPy takes part only where `make bench-deps` installed it).
#[test]
fn linreg_bench_runs_and_reports_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ml");
    let o = crate::common::skadi(&[
        "bench",
        "linreg",
        "--data",
        data.to_str().unwrap(),
        "--rows",
        "20000",
        "--features",
        "3",
        "--epochs",
        "3",
        "--runs",
        "1",
        "--workers",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("20000 rows x 3 features"), "{text}");
    assert!(
        text.contains("skadi (2 workers)") && text.contains("fixed cost"),
        "{text}"
    );
}
