//! The frontends' benchmarks: word count (a MapReduce job) against a plain Rust HashMap
//! loop, and a linear-regression epoch (a pipeline's `flow.iterate`) against NumPy.

use super::time;
use skadi::{Error, Session};
use std::{path::Path, time::Duration};

/// Word count, Skadi against a plain single-threaded Rust HashMap over the same files.
pub struct WordCountBench {
    pub files: usize,
    pub bytes: u64,
    pub tokens: u64,
    pub distinct: usize,
    pub workers: usize,
    pub skadi: Duration,
    pub baseline: Duration,
}

impl WordCountBench {
    pub fn report(&self) -> String {
        let per_s = |d: Duration| self.tokens as f64 / d.as_secs_f64();
        let ours = per_s(self.skadi);
        let base = per_s(self.baseline);
        let per_core = ours / self.workers as f64;
        format!(
            "word count: {} file(s), {:.1} MB, {} tokens, {} distinct words\n\
             {:<34} {:>10} {:>14} {:>16}\n\
             {:<34} {:>8.1}ms {:>12.2}M/s {:>14.2}M/s\n\
             {:<34} {:>8.1}ms {:>12.2}M/s {:>14.2}M/s\n\
             skadi per core / baseline: {:.2}x   skadi total / baseline: {:.2}x\n",
            self.files,
            self.bytes as f64 / 1e6,
            self.tokens,
            self.distinct,
            "",
            "median",
            "tokens/s",
            "tokens/s/core",
            format!("skadi ({} workers)", self.workers),
            self.skadi.as_secs_f64() * 1e3,
            ours / 1e6,
            per_core / 1e6,
            "baseline (1 thread, HashMap)",
            self.baseline.as_secs_f64() * 1e3,
            base / 1e6,
            base / 1e6,
            per_core / base,
            ours / base,
        )
    }
}

/// Times word count (tokens, lowercase, count per word) over the text files in `dir`:
/// Skadi's job on `workers` workers (spec to rows, including compile and JIT) against a
/// single-threaded loop of the same regex and a `HashMap<String, u64>`; checks that both
/// count the same.
pub fn bench_wordcount(dir: &Path, workers: usize, runs: usize) -> Result<WordCountBench, Error> {
    let spec = format!(
        "[input]\npath = {:?}\n\n[[map]]\ntokens = \"line\"\nas = \"word\"\n\n[[map]]\nlowercase = \"word\"\n\n\
         [reduce]\nkey = [\"word\"]\nvalues = {{ n = \"count(*)\" }}\n",
        dir.display().to_string()
    );
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let bytes: u64 = files.iter().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum();
    let session = Session::without_catalog().with_workers(workers);
    let (skadi, result) = time(runs, || Ok(session.job(&spec, "wordcount.toml")?.0))?;
    let tokens_re = regex::Regex::new(skadi_mapreduce::DEFAULT_TOKENS).expect("a valid regex");
    let (baseline, counts) = time(runs, || {
        let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        for f in &files {
            let text = std::fs::read_to_string(f).map_err(|source| Error::Io {
                path: f.display().to_string(),
                source,
            })?;
            for line in text.lines() {
                for m in tokens_re.find_iter(line) {
                    *counts.entry(m.as_str().to_lowercase()).or_default() += 1;
                }
            }
        }
        Ok(counts)
    })?;
    let ours: u64 = result
        .batches
        .iter()
        .map(|b| {
            let n = arrow::compute::cast(b.column(1), &arrow::datatypes::DataType::Int64).expect("counts are integers");
            arrow::compute::sum(arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(&n)).unwrap_or(0)
                as u64
        })
        .sum();
    let tokens: u64 = counts.values().sum();
    let distinct: usize = result.batches.iter().map(|b| b.num_rows()).sum();
    if ours != tokens || distinct != counts.len() {
        return Err(Error::Other(format!(
            "word count disagrees with the baseline: {ours} tokens in {distinct} words vs {tokens} in {}",
            counts.len()
        )));
    }
    Ok(WordCountBench {
        files: files.len(),
        bytes,
        tokens,
        distinct,
        workers,
        skadi,
        baseline,
    })
}

/// Linear regression by gradient descent, one epoch (a pass over every row and the
/// update): Skadi's `flow.iterate` against NumPy on the same file and threads.
pub struct LinearRegressionBench {
    pub rows: usize,
    pub features: usize,
    pub workers: usize,
    pub epochs: usize,
    /// Skadi's time per epoch: (T(first + epochs) − T(first)) / epochs, each T the median
    /// of the runs of the whole pipeline, so reading, compiling and JIT cancel out.
    pub skadi_epoch: Duration,
    /// What a training run costs besides its epochs: reading, compiling, the first passes.
    pub skadi_fixed: Duration,
    /// NumPy's median epoch, and how far its coefficients are from Skadi's (the largest
    /// relative difference) after the same epochs; `None` without NumPy.
    pub numpy: Option<(Duration, f64)>,
}

impl LinearRegressionBench {
    pub fn report(&self) -> String {
        let per_s = |d: Duration| self.rows as f64 / d.as_secs_f64() / 1e6;
        let mut out = format!(
            "linear regression by gradient descent: {} rows x {} features, {} timed epochs\n\
             {:<34} {:>12} {:>14}\n\
             {:<34} {:>10.2}ms {:>12.1}M/s\n",
            self.rows,
            self.features,
            self.epochs,
            "",
            "epoch",
            "rows/s",
            format!("skadi ({} workers)", self.workers),
            self.skadi_epoch.as_secs_f64() * 1e3,
            per_s(self.skadi_epoch),
        );
        match self.numpy {
            Some((numpy, diff)) => out.push_str(&format!(
                "{:<34} {:>10.2}ms {:>12.1}M/s\n\
                 skadi epoch / numpy epoch: {:.2}x   coefficients agree to {diff:.1e} (relative)\n",
                format!("numpy (BLAS, {} threads)", self.workers),
                numpy.as_secs_f64() * 1e3,
                per_s(numpy),
                self.skadi_epoch.as_secs_f64() / numpy.as_secs_f64(),
            )),
            None => out.push_str("numpy: not installed (`make bench-deps`): Skadi alone\n"),
        }
        out.push_str(&format!(
            "skadi's fixed cost per training run (read, compile, JIT, first epochs): {:.1}ms\n",
            self.skadi_fixed.as_secs_f64() * 1e3
        ));
        out
    }
}

const NUMPY_SCRIPT: &str = include_str!("../../../scripts/numpy_linreg.py");

/// Times gradient-descent epochs over `dir/linear.parquet` (`skadi gen ml`: features
/// `x1..`, label `y`) in Skadi and, when `python` is given, NumPy; checks both end with
/// the same coefficients.
pub fn bench_linreg(
    dir: &Path,
    workers: usize,
    runs: usize,
    epochs: usize,
    python: Option<&Path>,
) -> Result<LinearRegressionBench, Error> {
    const LEARNING_RATE: f64 = 0.1;
    const FIRST: usize = 2;
    let file = dir.join("linear.parquet");
    let schema = skadi_catalog::read_schema(skadi_catalog::FileFormat::Parquet, &file)
        .map_err(|e| Error::Other(format!("{}: {e}", file.display())))?;
    let features: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| n.starts_with('x'))
        .collect();
    if features.is_empty() || schema.field_with_name("y").is_err() {
        return Err(Error::Other(format!(
            "{}: expected columns x1, x2, ... and y (`skadi gen ml`)",
            file.display()
        )));
    }
    let quoted: Vec<String> = features.iter().map(|f| format!("{f:?}")).collect();
    let spec = |iterations: usize| {
        format!(
            "[pipeline]\ntables = {:?}\n\n[[step]]\nname = \"points\"\nsql = \"SELECT {}, y FROM linear\"\n\n\
             [[step]]\nname = \"m\"\ntrain = \"linear_regression\"\nmethod = \"gradient_descent\"\n\
             features = [{}]\nlabel = \"y\"\nlearning_rate = {LEARNING_RATE:?}\nmax_iterations = {iterations}\n\
             tolerance = 0.0\n",
            dir.display().to_string(),
            features.join(", "),
            quoted.join(", "),
        )
    };
    let session = Session::without_catalog().with_workers(workers);
    let train = |iterations: usize| -> Result<(Duration, Vec<f64>), Error> {
        let text = spec(iterations);
        let (t, (result, _)) = time(runs, || session.pipeline(&text, "linreg.toml"))?;
        let batch = &result.batches[0];
        let state: Vec<f64> = (0..=features.len())
            .map(|i| arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(batch.column(i)).value(0))
            .collect();
        let rows = arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(batch.column(features.len() + 3))
            .value(0);
        let mut state = state;
        state.push(rows as f64);
        Ok((t, state))
    };
    let (short, _) = train(FIRST)?;
    let (long, mut state) = train(FIRST + epochs)?;
    let rows = state.pop().unwrap_or_default() as usize;
    let skadi_epoch = long.saturating_sub(short) / epochs.max(1) as u32;
    let skadi_fixed = short.saturating_sub(skadi_epoch * FIRST as u32);
    let numpy = match python {
        None => None,
        Some(python) => {
            let out = std::process::Command::new(python)
                .args(["-c", NUMPY_SCRIPT])
                .arg(&file)
                .arg("y")
                .arg(LEARNING_RATE.to_string())
                .arg((FIRST + epochs).to_string())
                .args(&features)
                .env("OPENBLAS_NUM_THREADS", workers.to_string())
                .env("OMP_NUM_THREADS", workers.to_string())
                .env("MKL_NUM_THREADS", workers.to_string())
                .output()
                .map_err(|e| Error::Other(format!("cannot start {}: {e}", python.display())))?;
            let text = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                return Err(Error::Other(format!(
                    "NumPy failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
            let field = |name: &str| -> Vec<f64> {
                text.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.split_whitespace().filter_map(|x| x.parse().ok()).collect())
                    .unwrap_or_default()
            };
            let (epoch, theirs) = (field("epoch_ms "), field("coefficients "));
            if epoch.len() != 1 || theirs.len() != state.len() {
                return Err(Error::Other(format!("NumPy printed something unexpected:\n{text}")));
            }
            let diff = state
                .iter()
                .zip(&theirs)
                .map(|(a, b)| (a - b).abs() / b.abs().max(1e-12))
                .fold(0.0, f64::max);
            if diff > 1e-6 {
                return Err(Error::Other(format!(
                    "Skadi and NumPy disagree after {} epochs: {state:?} vs {theirs:?}",
                    FIRST + epochs
                )));
            }
            Some((Duration::from_secs_f64(epoch[0] / 1e3), diff))
        }
    };
    Ok(LinearRegressionBench {
        rows,
        features: features.len(),
        workers,
        epochs,
        skadi_epoch,
        skadi_fixed,
        numpy,
    })
}
