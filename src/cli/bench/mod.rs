//! `skadi bench tpch`: Skadi and DataFusion side by side on the same Parquet files with
//! the same thread count, query by query, in one process. Each engine runs a query once
//! to warm up, then `runs` times; the median is reported. Skadi's time covers SQL text to
//! result rows (compile, JIT, run), as DataFusion's does. `bench_fusion` times Skadi
//! against itself (fused -O2 vs unfused -O0), `bench_compile` times SQL → physical plan.

mod frontends;

use frontends::{bench_linreg as linreg, bench_wordcount as wordcount};

use crate::{
    args::Bench,
    progress::{self, workload},
};
use skadi::{Error, OptLevel, Session};
use skadi_workloads::peer::DataFusionPeer;
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// One query, timed two ways (`ours` and `peer`: Skadi and DataFusion, or fused and
/// unfused Skadi).
pub struct BenchRow {
    pub query: String,
    pub ours: Duration,
    pub peer: Duration,
    /// A third engine's time, when one ran (DuckDB in `bench tpch`).
    pub third: Option<Duration>,
}

impl BenchRow {
    /// `ours` over `peer`: below 1 means `ours` is faster.
    pub fn ratio(&self) -> f64 {
        self.ours.as_secs_f64() / self.peer.as_secs_f64()
    }
}

/// What a benchmark compared: the column titles of its report.
pub struct Labels {
    pub ours: &'static str,
    pub peer: &'static str,
}

pub const VS_DATAFUSION: Labels = Labels {
    ours: "skadi",
    peer: "datafusion",
};
pub const FUSED_VS_UNFUSED: Labels = Labels {
    ours: "fused -O2",
    peer: "unfused -O0",
};
pub const COMPILE_VS_DATAFUSION: Labels = Labels {
    ours: "skadi plan",
    peer: "datafusion plan",
};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> Result<T, Error>) -> Result<(Duration, T), Error> {
    let mut last = f()?; // warm-up
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        last = f()?;
        times.push(start.elapsed());
    }
    Ok((median(times), last))
}

/// A median time and the last run's result.
type Timed<T> = (Duration, T);

/// Times `ours` and `peer` like [`time`], alternating them run by run (and which goes
/// first), so a machine that slows down or speeds up meanwhile weighs on both alike.
fn time_pair<A, B>(
    runs: usize,
    mut ours: impl FnMut() -> Result<A, Error>,
    mut peer: impl FnMut() -> Result<B, Error>,
) -> Result<(Timed<A>, Timed<B>), Error> {
    let (mut a, mut b) = (ours()?, peer()?); // warm-up
    let (mut times_a, mut times_b) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for run in 0..runs.max(1) {
        let mut time_a = || -> Result<(), Error> {
            let start = Instant::now();
            a = ours()?;
            times_a.push(start.elapsed());
            Ok(())
        };
        if run % 2 == 0 {
            time_a()?;
        }
        let start = Instant::now();
        b = peer()?;
        times_b.push(start.elapsed());
        if run % 2 == 1 {
            time_a()?;
        }
    }
    Ok(((median(times_a), a), (median(times_b), b)))
}

/// Times each query both ways with `pair` (ours, peer); `on_query` sees each row.
fn compare(
    queries: &[(&str, &str)],
    on_query: &mut dyn FnMut(&BenchRow),
    mut pair: impl FnMut(&str, &str) -> Result<(Duration, Duration), Error>,
) -> Result<Vec<BenchRow>, Error> {
    let mut rows = Vec::new();
    for (name, sql) in queries {
        let (ours, peer) = pair(name, sql)?;
        let row = BenchRow {
            query: name.to_string(),
            ours,
            peer,
            third: None,
        };
        on_query(&row);
        rows.push(row);
    }
    Ok(rows)
}

/// Runs each named query on both engines; `on_query` is called after each.
pub fn bench(
    catalog: &Path,
    queries: &[(&str, &str)],
    workers: usize,
    runs: usize,
    cold: bool,
    on_query: &mut dyn FnMut(&BenchRow),
) -> Result<Vec<BenchRow>, Error> {
    let session = Session::open(catalog)?.with_workers(workers).with_code_reuse(!cold);
    let peer = DataFusionPeer::open(catalog, workers).map_err(workload)?;
    compare(queries, on_query, |name, sql| {
        let ((skadi, ours), (datafusion, theirs)) =
            time_pair(runs, || session.sql(sql, name), || peer.sql(sql).map_err(workload))?;
        let count = |b: &[arrow::record_batch::RecordBatch]| b.iter().map(|b| b.num_rows()).sum::<usize>();
        if count(&ours.batches) != count(&theirs) {
            return Err(Error::Other(format!(
                "{name}: Skadi returned {} rows, DataFusion {}",
                count(&ours.batches),
                count(&theirs)
            )));
        }
        Ok((skadi, datafusion))
    })
}

/// Runs each query fused (`-O2`) and unfused (`-O0`), SQL text to rows both times.
pub fn bench_fusion(
    catalog: &Path,
    queries: &[(&str, &str)],
    workers: usize,
    runs: usize,
    cold: bool,
    on_query: &mut dyn FnMut(&BenchRow),
) -> Result<Vec<BenchRow>, Error> {
    let fused = Session::open(catalog)?
        .with_workers(workers)
        .with_opt_level(OptLevel::O2)
        .with_code_reuse(!cold);
    let unfused = Session::open(catalog)?
        .with_workers(workers)
        .with_opt_level(OptLevel::O0)
        .with_code_reuse(!cold);
    compare(queries, on_query, |name, sql| {
        let ((ours, _), (peer, _)) = time_pair(runs, || fused.sql(sql, name), || unfused.sql(sql, name))?;
        Ok((ours, peer))
    })
}

/// DuckDB's script (scripts/duckdb_tpch.py), embedded like the queries.
const DUCKDB_SCRIPT: &str = include_str!("../../../scripts/duckdb_tpch.py");

/// The Python that has `module` (DuckDB, NumPy): `$SKADI_PYTHON`, else the project's
/// `.venv` (made by `make bench-deps`) under the current directory. `None` when neither
/// imports it.
pub fn python_with(module: &str) -> Option<std::path::PathBuf> {
    let python = std::env::var_os("SKADI_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(".venv/bin/python3").to_path_buf());
    let ok = std::process::Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(python)
}

/// DuckDB on the same files with the same threads, in its own process: per query the
/// median of `runs` timed runs after a warm-up (DuckDB's own clock, so process start and
/// Python are not counted).
pub fn bench_duckdb(
    python: &Path,
    catalog: &Path,
    queries: &[(&str, &str)],
    workers: usize,
    runs: usize,
) -> Result<Vec<Duration>, Error> {
    use std::io::Write;
    let mut child = std::process::Command::new(python)
        .args(["-c", DUCKDB_SCRIPT])
        .arg(catalog)
        .arg(workers.to_string())
        .arg(runs.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::Other(format!("cannot start {}: {e}", python.display())))?;
    let input = serde_json::to_string(queries).expect("queries serialize");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .map_err(|e| Error::Other(format!("DuckDB: {e}")))?;
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Other(format!("DuckDB: {e}")))?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "DuckDB failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let times: Vec<Duration> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(_, ms)| ms.trim().parse::<f64>().ok())
        .map(|ms| Duration::from_secs_f64(ms / 1e3))
        .collect();
    if times.len() != queries.len() {
        return Err(Error::Other(format!(
            "DuckDB reported {} of {} queries:\n{text}",
            times.len(),
            queries.len()
        )));
    }
    Ok(times)
}

/// Compile latency: SQL text to a physical plan, nothing executed — Skadi at `-O2`
/// (parse, FlowGraph, passes, lowering) beside DataFusion (parse, plan, optimize, physical
/// plan) in the same process.
pub fn bench_compile(
    catalog: &Path,
    queries: &[(&str, &str)],
    workers: usize,
    runs: usize,
    _cold: bool,
    on_query: &mut dyn FnMut(&BenchRow),
) -> Result<Vec<BenchRow>, Error> {
    let session = Session::open(catalog)?.with_workers(workers);
    let peer = DataFusionPeer::open(catalog, workers).map_err(workload)?;
    compare(queries, on_query, |name, sql| {
        let ((ours, _), (theirs, _)) = time_pair(
            runs,
            || session.compile(sql, name),
            || peer.physical_plan(sql).map_err(workload),
        )?;
        Ok((ours, theirs))
    })
}

/// The report: one line per query, then the geometric mean of the ratios.
pub fn report(rows: &[BenchRow], labels: &Labels, workers: usize) -> String {
    let (a, b) = (format!("{} ms", labels.ours), format!("{} ms", labels.peer));
    let ratio = format!("{}/{}", labels.ours, labels.peer);
    let mut out = format!("{:<6} {a:>16} {b:>18} {ratio:>28}\n", "query");
    for r in rows {
        out.push_str(&format!(
            "{:<6} {:>16.2} {:>18.2} {:>27.2}x\n",
            r.query,
            r.ours.as_secs_f64() * 1e3,
            r.peer.as_secs_f64() * 1e3,
            r.ratio()
        ));
    }
    if !rows.is_empty() {
        let geomean = (rows.iter().map(|r| r.ratio().ln()).sum::<f64>() / rows.len() as f64).exp();
        out.push_str(&format!(
            "geomean ratio {geomean:.2}x  ({} queries, {workers} threads each)\n",
            rows.len()
        ));
    }
    let third: Vec<(&BenchRow, Duration)> = rows.iter().filter_map(|r| r.third.map(|t| (r, t))).collect();
    if !third.is_empty() {
        let ratio = |r: &BenchRow, t: Duration| r.ours.as_secs_f64() / t.as_secs_f64();
        out.push_str(&format!(
            "\n{:<6} {:>16} {:>18} {:>28}\n",
            "query",
            format!("{} ms", labels.ours),
            "duckdb ms",
            format!("{}/duckdb", labels.ours)
        ));
        for &(r, t) in &third {
            out.push_str(&format!(
                "{:<6} {:>16.2} {:>18.2} {:>27.2}x\n",
                r.query,
                r.ours.as_secs_f64() * 1e3,
                t.as_secs_f64() * 1e3,
                ratio(r, t)
            ));
        }
        let geomean = (third.iter().map(|&(r, t)| ratio(r, t).ln()).sum::<f64>() / third.len() as f64).exp();
        out.push_str(&format!(
            "geomean ratio vs DuckDB {geomean:.2}x  ({} queries, {workers} threads each)\n",
            third.len()
        ));
    }
    out
}

/// `skadi bench ...`: runs the benchmark and prints its report.
pub(crate) fn run(b: Bench) -> Result<(), Error> {
    match b {
        Bench::Wordcount(a) => {
            let workers = a.workers.unwrap_or_else(|| Session::without_catalog().workers());
            let report = bench_wordcount(a.data, a.files, a.lines, workers, a.runs)?;
            crate::write_output(None, report.as_bytes())
        }
        Bench::Linreg(a) => {
            let workers = a.workers.unwrap_or_else(|| Session::without_catalog().workers());
            let report = bench_linreg(a.data, a.rows, a.features, a.epochs, workers, a.runs)?;
            crate::write_output(None, report.as_bytes())
        }
        Bench::Frontends(a) => {
            let workers = a.workers.unwrap_or_else(|| Session::without_catalog().workers());
            let words = bench_wordcount(None, 8, 250_000, workers, a.runs)?;
            let epochs = bench_linreg(None, 2_000_000, 8, 100, workers, a.runs)?;
            crate::write_output(None, format!("{words}\n{epochs}").as_bytes())
        }
        which => {
            let with_duckdb = matches!(which, Bench::Tpch(_));
            let (args, labels, bench): (_, _, BenchFn) = match which {
                Bench::Tpch(a) => (a, &VS_DATAFUSION, bench),
                Bench::Fusion(a) => (a, &FUSED_VS_UNFUSED, bench_fusion),
                Bench::Compile(a) => (a, &COMPILE_VS_DATAFUSION, bench_compile),
                Bench::Wordcount(_) | Bench::Linreg(_) | Bench::Frontends(_) => unreachable!("handled above"),
            };
            let scale = args.scale;
            let data = args
                .data
                .unwrap_or_else(|| PathBuf::from(format!("data/tpch-sf{scale}")));
            if !data.join("lineitem.parquet").exists() && !data.join("lineitem").exists() {
                eprintln!("generating TPC-H SF{scale} into {}", data.display());
                skadi_workloads::tpch::generate(&data, scale, 1, |_, _| {}).map_err(workload)?;
            }
            let queries = &args.queries;
            if let Some(unknown) = queries
                .iter()
                .find(|q| !skadi_workloads::tpch::TPCH_QUERIES.iter().any(|(n, _)| n == q))
            {
                return Err(Error::Other(format!(
                    "not supported yet: TPC-H {unknown} in the benchmark"
                )));
            }
            let selected: Vec<(&str, &str)> = skadi_workloads::tpch::TPCH_QUERIES
                .iter()
                .filter(|(name, _)| queries.is_empty() || queries.iter().any(|q| q == name))
                .copied()
                .collect();
            let workers = args.workers.unwrap_or_else(|| Session::without_catalog().workers());
            let progress = progress::bar(
                selected.len() as u64,
                "{spinner} benchmarking [{bar:30}] {pos}/{len} {msg}",
            );
            let mut rows = bench(&data, &selected, workers, args.runs, args.cold, &mut |row| {
                progress.set_message(format!("{}: {:.2}x", row.query, row.ratio()));
                progress.inc(1);
            })?;
            progress.finish_and_clear();
            if with_duckdb {
                match python_with("duckdb") {
                    Some(python) => {
                        eprintln!("running the same queries on DuckDB ({})", python.display());
                        let times = bench_duckdb(&python, &data, &selected, workers, args.runs)?;
                        for (row, t) in rows.iter_mut().zip(times) {
                            row.third = Some(t);
                        }
                    }
                    None => eprintln!("DuckDB is not installed (`make bench-deps`): comparing with DataFusion only"),
                }
            }
            crate::write_output(None, report(&rows, labels, workers).as_bytes())
        }
    }
}

type BenchFn =
    fn(&Path, &[(&str, &str)], usize, usize, bool, &mut dyn FnMut(&BenchRow)) -> Result<Vec<BenchRow>, Error>;

/// `skadi bench wordcount`: generates the text first when `data` is missing.
fn bench_wordcount(
    data: Option<PathBuf>,
    files: usize,
    lines: usize,
    workers: usize,
    runs: usize,
) -> Result<String, Error> {
    let data = data.unwrap_or_else(|| PathBuf::from("data/text-bench"));
    if !data.exists() {
        eprintln!(
            "generating {files} text file(s) of {lines} lines into {}",
            data.display()
        );
        skadi_workloads::corpus::generate_text(&data, files, lines, 42).map_err(workload)?;
    }
    let result = progress::spinning("word count: skadi and the baseline", || wordcount(&data, workers, runs))?;
    Ok(result.report())
}

/// `skadi bench linreg`: generates the tables first when `data` is missing.
fn bench_linreg(
    data: Option<PathBuf>,
    rows: usize,
    features: usize,
    epochs: usize,
    workers: usize,
    runs: usize,
) -> Result<String, Error> {
    let data = data.unwrap_or_else(|| PathBuf::from("data/ml-bench"));
    if !data.join("linear.parquet").exists() {
        eprintln!("generating {rows} rows x {features} features into {}", data.display());
        skadi_workloads::corpus::generate_ml(&data, rows, features, 3, 42).map_err(workload)?;
    }
    let python = python_with("numpy");
    if python.is_none() {
        eprintln!("NumPy is not installed (`make bench-deps`): timing Skadi alone");
    }
    let result = progress::spinning("linear regression: skadi and numpy", || {
        linreg(&data, workers, runs, epochs, python.as_deref())
    })?;
    Ok(result.report())
}
