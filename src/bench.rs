//! `skadi bench tpch`: Skadi and DataFusion side by side on the same Parquet files with
//! the same thread count, query by query, in one process. Each engine runs a query once
//! to warm up, then `runs` times; the median is reported. Skadi's time covers SQL text to
//! result rows (compile, JIT, run), as DataFusion's does.

use crate::{Error, Session, peer::DataFusionPeer};
use std::{
    path::Path,
    time::{Duration, Instant},
};

/// The TPC-H queries Skadi runs today, embedded so the binary works from any directory.
pub const TPCH_QUERIES: [(&str, &str); 2] = [
    ("q1", include_str!("../queries/tpch/q1.sql")),
    ("q6", include_str!("../queries/tpch/q6.sql")),
];

pub struct BenchRow {
    pub query: String,
    pub skadi: Duration,
    pub datafusion: Duration,
}

impl BenchRow {
    /// Skadi's time over DataFusion's: below 1 means Skadi is faster.
    pub fn ratio(&self) -> f64 {
        self.skadi.as_secs_f64() / self.datafusion.as_secs_f64()
    }
}

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

/// Runs each named query on both engines; `on_query` is called after each.
pub fn bench(
    catalog: &Path,
    queries: &[(&str, &str)],
    workers: usize,
    runs: usize,
    mut on_query: impl FnMut(&BenchRow),
) -> Result<Vec<BenchRow>, Error> {
    let session = Session::open(catalog)?.with_workers(workers);
    let peer = DataFusionPeer::open(catalog, workers)?;
    let mut rows = Vec::new();
    for (name, sql) in queries {
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
        let row = BenchRow {
            query: name.to_string(),
            skadi,
            datafusion,
        };
        on_query(&row);
        rows.push(row);
    }
    Ok(rows)
}

/// The report: one line per query, then the geometric mean of the ratios.
pub fn report(rows: &[BenchRow], workers: usize) -> String {
    let mut out = format!(
        "{:<6} {:>12} {:>14} {:>16}\n",
        "query", "skadi ms", "datafusion ms", "skadi/datafusion"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<6} {:>12.1} {:>14.1} {:>15.2}x\n",
            r.query,
            r.skadi.as_secs_f64() * 1e3,
            r.datafusion.as_secs_f64() * 1e3,
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
