//! Shared fixtures: TPC-H data generated once per test process, the oracle, and result
//! comparison with a float tolerance.

use arrow::{
    array::{Array, AsArray},
    compute::cast,
    datatypes::DataType,
    record_batch::RecordBatch,
    util::display::array_value_to_string,
};
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

pub const SCALE: f64 = 0.1;

fn generate_once(cell: &'static OnceLock<PathBuf>, name: &str, files: usize) -> &'static Path {
    cell.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        let done = dir.join(".complete");
        if !done.exists() {
            skadi_workloads::tpch::generate(&dir, SCALE, files, |_, _| {}).expect("TPC-H generation");
            std::fs::write(&done, "").unwrap();
        }
        dir
    })
}

/// TPC-H SF0.1, one file per table.
pub fn tpch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    generate_once(&DIR, "tpch-sf0.1", 1)
}

/// TPC-H SF0.1 with each large table split into 3 files.
pub fn tpch_split() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    generate_once(&DIR, "tpch-sf0.1-3files", 3)
}

/// Small tables full of NULLs, in `format` ("csv" or "parquet"), for the NULL suite
/// (tests/sql/nulls.slt): `t` (3,000 rows: `k` and nullable `x` i64, `y` f64, `s`
/// string, `b` boolean, `d` date, `m` decimal(12,2) and `w` decimal(30,6); as CSV the
/// decimals read back as floats) and `u` (400 rows: `k`, nullable `x`, `name`), each
/// column NULL on its own rhythm.
pub fn nulls(format: &str) -> &'static Path {
    static CSV: OnceLock<PathBuf> = OnceLock::new();
    static PARQUET: OnceLock<PathBuf> = OnceLock::new();
    let cell = if format == "csv" { &CSV } else { &PARQUET };
    cell.get_or_init(|| {
        use arrow::array::{
            ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
        };
        use std::sync::Arc;
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("nulls-v2-{format}"));
        let done = dir.join(".complete");
        if done.exists() {
            return dir;
        }
        let table = |columns: Vec<(&str, ArrayRef)>| RecordBatch::try_from_iter(columns).unwrap();
        let some = |k: i64, every: i64| k % every != 0;
        let n = 3000;
        let t = table(vec![
            ("k", Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef),
            (
                "x",
                Arc::new(
                    (0..n)
                        .map(|k| some(k, 7).then_some((k * 37) % 101 - 50))
                        .collect::<Int64Array>(),
                ),
            ),
            (
                "y",
                Arc::new(
                    (0..n)
                        .map(|k| some(k, 5).then_some(((k * 13) % 97) as f64 / 4.0 - 10.0))
                        .collect::<Float64Array>(),
                ),
            ),
            (
                "s",
                Arc::new(
                    (0..n)
                        .map(|k| some(k, 3).then(|| format!("s{}", k % 17)))
                        .collect::<StringArray>(),
                ),
            ),
            (
                "b",
                Arc::new(
                    (0..n)
                        .map(|k| some(k, 4).then_some(k % 3 == 0))
                        .collect::<BooleanArray>(),
                ),
            ),
            (
                "d",
                Arc::new(
                    (0..n)
                        .map(|k| some(k, 9).then_some(18_000 + (k % 400) as i32))
                        .collect::<Date32Array>(),
                ),
            ),
            (
                "m",
                Arc::new(
                    (0..n)
                        .map(|k| some(k, 11).then_some(((k * 7919) % 100_000 - 50_000) as i128))
                        .collect::<Decimal128Array>()
                        .with_precision_and_scale(12, 2)
                        .unwrap(),
                ),
            ),
            (
                "w",
                Arc::new(
                    (0..n)
                        .map(|k| some(k, 13).then_some((k as i128 - 1500) * 1_000_000_007_000_003))
                        .collect::<Decimal128Array>()
                        .with_precision_and_scale(30, 6)
                        .unwrap(),
                ),
            ),
        ]);
        let m = 400;
        let u = table(vec![
            (
                "k",
                Arc::new(Int64Array::from_iter_values((0..m).map(|k| k * 5))) as ArrayRef,
            ),
            (
                "x",
                Arc::new(
                    (0..m)
                        .map(|k| some(k, 6).then_some(k % 50 - 25))
                        .collect::<Int64Array>(),
                ),
            ),
            (
                "name",
                Arc::new(
                    (0..m)
                        .map(|k| some(k, 8).then(|| format!("n{}", k % 13)))
                        .collect::<StringArray>(),
                ),
            ),
        ]);
        for (name, batch) in [("t", t), ("u", u)] {
            let tdir = dir.join(name);
            std::fs::create_dir_all(&tdir).unwrap();
            let file = std::fs::File::create(tdir.join(format!("part-0.{format}"))).unwrap();
            if format == "csv" {
                let mut w = arrow::csv::WriterBuilder::new().with_header(true).build(file);
                w.write(&batch).unwrap();
            } else {
                let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
                w.write(&batch).unwrap();
                w.close().unwrap();
            }
        }
        std::fs::write(&done, "").unwrap();
        dir
    })
}

pub fn query(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("queries/tpch")
        .join(format!("{name}.sql"));
    std::fs::read_to_string(path).unwrap()
}

/// DataFusion executing the query over the same catalog directory.
pub fn oracle(catalog: &Path, sql: &str) -> Vec<RecordBatch> {
    skadi_workloads::peer::DataFusionPeer::open(catalog, 2)
        .unwrap()
        .sql(sql)
        .unwrap()
}

/// DataFusion's error on the query, or `None` where it runs.
pub fn oracle_error(catalog: &Path, sql: &str) -> Option<String> {
    skadi_workloads::peer::DataFusionPeer::open(catalog, 2)
        .unwrap()
        .sql(sql)
        .err()
        .map(|e| e.to_string())
}

/// Every cell as text, numbers as f64 so decimal and float answers compare; decimals
/// also as their exact text, which must match where both answers are decimals.
fn cells(batches: &[RecordBatch]) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            rows.push(
                b.columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(r) {
                            return Cell::Null;
                        }
                        match c.data_type() {
                            DataType::Decimal128(..)
                            | DataType::Float64
                            | DataType::Float32
                            | DataType::Int64
                            | DataType::Int32
                            | DataType::UInt64 => {
                                let f = cast(&c.slice(r, 1), &DataType::Float64).unwrap();
                                // A decimal is exact only to its scale (DataFusion rounds
                                // avg(decimal(15,2)) to 6 places, for one).
                                let slack = match c.data_type() {
                                    DataType::Decimal128(_, s) => 10f64.powi(-(*s as i32)),
                                    _ => 0.0,
                                };
                                let exact = matches!(c.data_type(), DataType::Decimal128(..))
                                    .then(|| array_value_to_string(c, r).unwrap());
                                Cell::Number(f.as_primitive::<arrow::datatypes::Float64Type>().value(0), slack, exact)
                            }
                            _ => Cell::Text(array_value_to_string(c, r).unwrap()),
                        }
                    })
                    .collect(),
            );
        }
    }
    rows
}

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    /// A value, how far from it the exact answer may lie, and a decimal's exact text.
    Number(f64, f64, Option<String>),
    Text(String),
}

fn close(a: &Cell, b: &Cell) -> bool {
    match (a, b) {
        (Cell::Number(_, _, Some(a)), Cell::Number(_, _, Some(b))) => a == b,
        (Cell::Number(x, sx, _), Cell::Number(y, sy, _)) => {
            (x - y).abs() <= (1e-9 * x.abs().max(y.abs()).max(1.0)).max(sx + sy)
        }
        _ => a == b,
    }
}

/// Asserts the two results hold the same rows in the same order: decimals exactly,
/// other numbers within 1e-9 relative, or within the rounding of a decimal's scale.
pub fn assert_same_rows(ours: &[RecordBatch], oracle: &[RecordBatch], what: &str) {
    let (a, b) = (cells(ours), cells(oracle));
    assert!(
        !b.is_empty(),
        "{what}: the oracle returned no rows; the test would prove nothing"
    );
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: row counts differ\nours:   {a:?}\noracle: {b:?}"
    );
    for (i, (ra, rb)) in a.iter().zip(&b).enumerate() {
        assert_eq!(ra.len(), rb.len(), "{what}: row {i} widths differ");
        for (ca, cb) in ra.iter().zip(rb) {
            assert!(close(ca, cb), "{what}: row {i} differs\nours:   {ra:?}\noracle: {rb:?}");
        }
    }
}

/// Runs the `skadi` binary.
pub fn skadi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skadi"))
        .args(args)
        .output()
        .expect("the skadi binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the CLI and expects exit 1, no panic, and every needle in standard error.
pub fn fails_with(args: &[&str], needles: &[&str]) -> String {
    let out = skadi(args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1 for {args:?}; stderr:\n{err}"
    );
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
    err
}
