//! `skadi bench tpch`: Skadi and DataFusion side by side on the same Parquet files with
//! the same thread count, query by query, in one process. Each engine runs a query once
//! to warm up, then `runs` times; the median is reported. Skadi's time covers SQL text to
//! result rows (compile, JIT, run), as DataFusion's does. `bench_fusion` times Skadi
//! against itself (fused -O2 vs unfused -O0), `bench_compile` times SQL → physical plan.

use crate::{Error, Session, peer::DataFusionPeer};
use skadi_compiler::passes::OptLevel;
use std::{
    path::Path,
    time::{Duration, Instant},
};

/// The 22 TPC-H queries, embedded so the binary works from any directory.
pub const TPCH_QUERIES: [(&str, &str); 22] = [
    ("q1", include_str!("../queries/tpch/q1.sql")),
    ("q2", include_str!("../queries/tpch/q2.sql")),
    ("q3", include_str!("../queries/tpch/q3.sql")),
    ("q4", include_str!("../queries/tpch/q4.sql")),
    ("q5", include_str!("../queries/tpch/q5.sql")),
    ("q6", include_str!("../queries/tpch/q6.sql")),
    ("q7", include_str!("../queries/tpch/q7.sql")),
    ("q8", include_str!("../queries/tpch/q8.sql")),
    ("q9", include_str!("../queries/tpch/q9.sql")),
    ("q10", include_str!("../queries/tpch/q10.sql")),
    ("q11", include_str!("../queries/tpch/q11.sql")),
    ("q12", include_str!("../queries/tpch/q12.sql")),
    ("q13", include_str!("../queries/tpch/q13.sql")),
    ("q14", include_str!("../queries/tpch/q14.sql")),
    ("q15", include_str!("../queries/tpch/q15.sql")),
    ("q16", include_str!("../queries/tpch/q16.sql")),
    ("q17", include_str!("../queries/tpch/q17.sql")),
    ("q18", include_str!("../queries/tpch/q18.sql")),
    ("q19", include_str!("../queries/tpch/q19.sql")),
    ("q20", include_str!("../queries/tpch/q20.sql")),
    ("q21", include_str!("../queries/tpch/q21.sql")),
    ("q22", include_str!("../queries/tpch/q22.sql")),
];

/// One query, timed two ways (`ours` and `peer`: Skadi and DataFusion, or fused and
/// unfused Skadi).
pub struct BenchRow {
    pub query: String,
    pub ours: Duration,
    pub peer: Duration,
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
    on_query: &mut dyn FnMut(&BenchRow),
) -> Result<Vec<BenchRow>, Error> {
    let session = Session::open(catalog)?.with_workers(workers);
    let peer = DataFusionPeer::open(catalog, workers)?;
    compare(queries, on_query, |name, sql| {
        let (skadi, ours) = time(runs, || session.sql(sql, name))?;
        let (datafusion, theirs) = time(runs, || peer.sql(sql))?;
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
    on_query: &mut dyn FnMut(&BenchRow),
) -> Result<Vec<BenchRow>, Error> {
    let fused = Session::open(catalog)?
        .with_workers(workers)
        .with_opt_level(OptLevel::O2);
    let unfused = Session::open(catalog)?
        .with_workers(workers)
        .with_opt_level(OptLevel::O0);
    compare(queries, on_query, |name, sql| {
        let (ours, _) = time(runs, || fused.sql(sql, name))?;
        let (peer, _) = time(runs, || unfused.sql(sql, name))?;
        Ok((ours, peer))
    })
}

/// Compile latency: SQL text to a physical plan, nothing executed — Skadi at `-O2`
/// (parse, FlowGraph, passes, lowering) beside DataFusion (parse, plan, optimize, physical
/// plan) in the same process.
pub fn bench_compile(
    catalog: &Path,
    queries: &[(&str, &str)],
    workers: usize,
    runs: usize,
    on_query: &mut dyn FnMut(&BenchRow),
) -> Result<Vec<BenchRow>, Error> {
    let session = Session::open(catalog)?.with_workers(workers);
    let peer = DataFusionPeer::open(catalog, workers)?;
    compare(queries, on_query, |name, sql| {
        let (ours, _) = time(runs, || session.compile(sql, name))?;
        let (theirs, _) = time(runs, || peer.physical_plan(sql))?;
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
    out
}
