//! The `skadi` command line: a thin layer over the library's `Session`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use codespan_reporting::{
    diagnostic::{Diagnostic, Label},
    files::SimpleFile,
    term::{
        self,
        termcolor::{ColorChoice, StandardStream},
    },
};
use indicatif::{ProgressBar, ProgressStyle};
use skadi::{Error, FlowGraph, OptLevel, OutputFormat, PhysicalPlan, Session};
use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
};

#[derive(Parser)]
#[command(
    name = "skadi",
    version,
    about = "Skadi — a tiered dataflow compiler: SQL → FlowGraph (MLIR) → sharded physical plan → runtime",
    long_about = "Skadi compiles declarative work into FlowGraph, a verified MLIR module, lowers it to a sharded \
physical plan (a backend and degree of parallelism per vertex, a partitioning per edge) and runs that plan on its \
embedded runtime.\n\nA catalog is a directory: each *.parquet or *.csv file in it, or sub-directory of such files, \
is a table named after the file or directory (its stem up to the first dot).",
    after_help = "Examples:\n  skadi gen tpch --scale 0.1 --out data/tpch\n  skadi run --catalog data/tpch queries/tpch/q1.sql\n  skadi run --catalog data/tpch -e 'select count(*) from lineitem' --format csv\n  skadi explain --catalog data/tpch --workers 4 queries/tpch/q6.sql\n  skadi compile --catalog data/tpch queries/tpch/q6.sql --emit flowgraph\n  skadi compile --catalog data/tpch queries/tpch/q6.sql --emit json -o q6.plan.json\n  skadi run --plan q6.plan.json\n  skadi compile --catalog data/tpch queries/tpch/q1.sql -O0 --print-after-all --passes fuse\n  skadi viz --catalog data/tpch queries/tpch/q1.sql -o q1.html\n  skadi compile --catalog data/tpch queries/tpch/q1.sql --emit dot | dot -Tsvg > q1.svg\n  skadi compile --catalog data/tpch queries/tpch/q6.sql -o q6.mlir && skadi explain --flowgraph q6.mlir"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate test data.
    #[command(subcommand)]
    Gen(Gen),
    /// Compile and run a query (or run a saved physical plan) and print its rows.
    Run(RunArgs),
    /// Compile a query and print one of its intermediate forms.
    Compile(CompileArgs),
    /// Show the physical plan: every stage, vertex, parallelism and exchange, and why.
    Explain(QueryArgs),
    /// Compare Skadi with DataFusion (in this process, same files, same threads).
    #[command(subcommand)]
    Bench(Bench),
    /// List the FlowGraph passes and each optimization level's pipeline.
    Passes,
    /// List the device profiles the cost model reads, and which backends are registered.
    Devices,
    /// Write the physical plan as a self-contained HTML page: stages, vertices with their
    /// parallelism, edges with their partitioning; click a vertex for its bodies.
    Viz(VizArgs),
}

#[derive(Args)]
struct VizArgs {
    #[command(flatten)]
    query: QueryArgs,
    /// Draw a saved JSON plan instead of compiling a query.
    #[arg(long, conflicts_with_all = ["query", "sql", "flowgraph"])]
    plan: Option<PathBuf>,
    /// The HTML file to write.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "plan.html")]
    output: PathBuf,
}

#[derive(Subcommand)]
enum Bench {
    /// TPC-H queries, one by one: median times, ratios and their geometric mean, against
    /// DataFusion (same process) and DuckDB (if `make bench-deps` installed it).
    Tpch(BenchArgs),
    /// Skadi fused (-O2) against unfused (-O0), TPC-H query by query, SQL to rows.
    Fusion(BenchArgs),
    /// Compile latency: SQL text to physical plan (nothing runs), Skadi beside DataFusion.
    Compile(BenchArgs),
    /// Word count on text files: Skadi's job (tokens/s per core) against a plain
    /// single-threaded Rust HashMap loop over the same files.
    Wordcount(WordCountArgs),
    /// Linear regression by gradient descent: Skadi's time per epoch against NumPy's on
    /// the same Parquet file and threads (NumPy from `make bench-deps`).
    Linreg(LinregArgs),
    /// The frontends' benchmarks in one run: `wordcount` and `linreg` with their defaults.
    Frontends(FrontendsArgs),
}

#[derive(Args)]
struct LinregArgs {
    /// Directory with linear.parquet [default: data/ml-bench, generated first if missing].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Rows to generate when --data is missing.
    #[arg(long, default_value_t = 2_000_000)]
    rows: usize,
    /// Features to generate when --data is missing.
    #[arg(long, default_value_t = 8)]
    features: usize,
    /// Epochs timed (Skadi: the difference between a short and a long run).
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Timed runs per engine, after one warm-up run.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Skadi's workers and NumPy's BLAS threads [default: CPUs].
    #[arg(long, short = 'w')]
    workers: Option<usize>,
}

#[derive(Args)]
struct FrontendsArgs {
    /// Timed runs per engine, after one warm-up run.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Skadi's workers and NumPy's BLAS threads [default: CPUs].
    #[arg(long, short = 'w')]
    workers: Option<usize>,
}

#[derive(Args)]
struct WordCountArgs {
    /// Directory of text files [default: data/text-bench, generated first if missing].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Files to generate when --data is missing.
    #[arg(long, default_value_t = 8)]
    files: usize,
    /// Lines per generated file.
    #[arg(long, default_value_t = 250_000)]
    lines: usize,
    /// Timed runs per engine, after one warm-up run.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Skadi's workers [default: CPUs].
    #[arg(long, short = 'w')]
    workers: Option<usize>,
}

#[derive(Args)]
struct BenchArgs {
    /// Scale factor of the data (generated first if --data lacks it).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The catalog directory [default: data/tpch-sf<SCALE>].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Queries to run, e.g. q1,q6 [default: all Skadi supports].
    #[arg(long, value_delimiter = ',')]
    queries: Vec<String>,
    /// Timed runs per query and engine, after one warm-up run.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Threads for each engine [default: CPUs].
    #[arg(long, short = 'w')]
    workers: Option<usize>,
    /// JIT-compile every run, as a query run once does. By default a run reuses the
    /// code compiled for the same bodies in an earlier run (the warm-up's).
    #[arg(long)]
    cold: bool,
}

#[derive(Subcommand)]
enum Gen {
    /// TPC-H tables as Parquet, one file per table (or directories of files with --files).
    Tpch {
        /// Scale factor: 1 is about 6 million lineitem rows.
        #[arg(long, default_value_t = 0.1)]
        scale: f64,
        /// Directory to write the tables into (a catalog).
        #[arg(long)]
        out: PathBuf,
        /// Split each large table (lineitem, orders, partsupp, part, customer) into N files.
        #[arg(long, default_value_t = 1)]
        files: usize,
    },
    /// Text files of made-up words with a skewed frequency (for word count, grep,
    /// inverted index): part-00000.txt, ...
    Text(CorpusArgs),
    /// Web-server access logs in the Common Log Format (for log analytics):
    /// part-00000.log, ...
    Logs(CorpusArgs),
    /// Tables for the ML examples, as Parquet: `linear` (x1.., y from known coefficients
    /// plus noise), `logistic` (x1.., a separable 0/1 label) and `blobs` (x1.. around
    /// k centers, with the true cluster).
    Ml(MlArgs),
}

#[derive(Args)]
struct MlArgs {
    /// Directory to write the tables into (a catalog).
    #[arg(long)]
    out: PathBuf,
    /// Rows per table.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Feature columns x1..xN.
    #[arg(long, default_value_t = 3)]
    features: usize,
    /// Blobs in the `blobs` table.
    #[arg(long, default_value_t = 3)]
    clusters: usize,
    /// Seed: the same seed writes the same tables.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Args)]
struct CorpusArgs {
    /// Directory to write the files into.
    #[arg(long)]
    out: PathBuf,
    /// How many files (each is one shard of a job's input).
    #[arg(long, default_value_t = 4)]
    files: usize,
    /// Lines per file.
    #[arg(long, default_value_t = 100_000)]
    lines: usize,
    /// Seed: the same seed writes the same files.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Args)]
struct QueryArgs {
    /// The catalog directory holding the tables the query reads.
    #[arg(long, short = 'c', default_value = ".")]
    catalog: PathBuf,
    /// A file holding one SQL query.
    #[arg(conflicts_with_all = ["sql", "flowgraph"])]
    query: Option<PathBuf>,
    /// The SQL query text itself.
    #[arg(short = 'e', long = "execute", value_name = "SQL", conflicts_with = "flowgraph")]
    sql: Option<String>,
    /// Start from a FlowGraph module (`.mlir`, e.g. from `--emit flowgraph`) instead of SQL.
    #[arg(long, value_name = "FILE")]
    flowgraph: Option<PathBuf>,
    /// Cap on each vertex's parallelism and on worker threads [default: CPUs].
    #[arg(long, short = 'w')]
    workers: Option<usize>,
    #[command(flatten)]
    optimize: OptimizeArgs,
}

#[derive(Args)]
struct OptimizeArgs {
    /// Optimization level: 0 lowers the FlowGraph as written; 1 canonicalizes bodies,
    /// removes dead and duplicate vertices, prunes columns and pushes predicates into
    /// sources (Parquet row-group pruning); 2 also fuses row-wise vertices into pipelines
    /// and fuses physical vertices (`skadi passes` lists them).
    #[arg(short = 'O', value_name = "LEVEL", default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=2))]
    opt_level: u8,
    /// Run exactly these FlowGraph passes, in order, instead of the level's pipeline.
    #[arg(long, value_delimiter = ',', value_name = "PASS,...")]
    passes: Option<Vec<String>>,
    /// Print the FlowGraph to standard error after every pass.
    #[arg(long)]
    print_after_all: bool,
    /// Print how long each pass took to standard error.
    #[arg(long)]
    time_passes: bool,
    /// A device profile (JSON, docs/DEVICE_PROFILES.md) replacing the built-in one of its
    /// backend in the cost model; repeatable.
    #[arg(long, value_name = "FILE")]
    device_profile: Vec<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    query: QueryArgs,
    /// Run a physical plan saved with `skadi compile --emit json` instead of SQL.
    #[arg(long, conflicts_with_all = ["query", "sql", "flowgraph"])]
    plan: Option<PathBuf>,
    /// How to print the rows.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Write the rows to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Emit {
    /// DataFusion's optimized logical plan, the SQL frontend's input.
    Logical,
    /// The FlowGraph MLIR module, with source locations.
    Flowgraph,
    /// The sharded physical plan as a verified MLIR module (`flow.vertex` ops).
    Physical,
    /// The sharded physical plan as versioned JSON (runs with `skadi run --plan`;
    /// docs/PLAN_FORMAT.md).
    Json,
    /// The sharded physical plan as a Graphviz digraph (`dot -Tsvg`).
    Dot,
    /// The bodies' batch kernels lowered to LLVM IR (what the CPU JIT compiles).
    Llvm,
}

#[derive(Args)]
struct CompileArgs {
    #[command(flatten)]
    query: QueryArgs,
    /// Which form to print.
    #[arg(long, value_enum, default_value_t = Emit::Flowgraph)]
    emit: Emit,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// Prints an error once, with a caret under the spot when it has a source position.
fn report(e: &Error) {
    let located = match e {
        Error::Sql {
            source_name,
            text,
            position: Some((line, col)),
            error,
        } => Some((source_name, text, *line, *col, &error.message)),
        Error::Job { text, error } => Some((&error.source_name, text, error.line, error.column, &error.message)),
        _ => None,
    };
    if let Some((source_name, text, line, col, message)) = located
        && let Some(offset) = byte_offset(text, line, col)
    {
        let file = SimpleFile::new(source_name.as_str(), text.as_str());
        let end = text[offset..]
            .find(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .map_or(text.len(), |n| offset + n.max(1));
        let diagnostic = Diagnostic::error()
            .with_message(format!("{source_name}:{line}:{col}: {message}"))
            .with_labels(vec![Label::primary((), offset..end)]);
        let choice = if std::io::stderr().is_terminal() {
            ColorChoice::Auto
        } else {
            ColorChoice::Never
        };
        let stream = StandardStream::stderr(choice);
        if term::emit(&mut stream.lock(), &term::Config::default(), &file, &diagnostic).is_ok() {
            return;
        }
    }
    eprintln!("error: {e}");
}

/// The byte offset of 1-based (line, column-in-characters).
fn byte_offset(text: &str, line: usize, col: usize) -> Option<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let line_text = text.get(start..)?.lines().next().unwrap_or("");
    let within = line_text
        .char_indices()
        .nth(col.checked_sub(1)?)
        .map_or(line_text.len(), |(i, _)| i);
    Some(start + within)
}

/// What the user gave to compile.
struct Source {
    text: String,
    name: String,
    kind: SourceKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    Sql,
    FlowGraph,
    /// A MapReduce job spec (`.toml` with an `[input]` table).
    Job,
    /// A pipeline spec (`.toml` with `[[step]]` tables).
    Pipeline,
}

/// Where a spec's result goes: its output file, and the model its last step trains.
#[derive(Default)]
struct SpecOutput {
    path: Option<PathBuf>,
    model: Option<skadi::ModelInfo>,
}

fn read_file(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

fn read_source(q: &QueryArgs) -> Result<Source, Error> {
    match (&q.query, &q.sql, &q.flowgraph) {
        (Some(path), None, None) => {
            let text = read_file(path)?;
            let kind = match path.extension().and_then(|e| e.to_str()) {
                Some("toml") if skadi::is_pipeline_spec(&text) => SourceKind::Pipeline,
                Some("toml") if skadi::is_job_spec(&text) => SourceKind::Job,
                Some("toml") => {
                    return Err(Error::Other(format!(
                        "{}: neither a job spec (a MapReduce job has an [input] table; docs/JOB_SPEC.md) nor a pipeline (a pipeline has [[step]] tables; docs/PIPELINE_SPEC.md)",
                        path.display()
                    )));
                }
                Some("mlir") => SourceKind::FlowGraph,
                _ => SourceKind::Sql,
            };
            Ok(Source {
                text,
                name: path.display().to_string(),
                kind,
            })
        }
        (None, Some(sql), None) => Ok(Source {
            text: sql.clone(),
            name: "<command line>".into(),
            kind: SourceKind::Sql,
        }),
        (None, None, Some(path)) => Ok(Source {
            text: read_file(path)?,
            name: path.display().to_string(),
            kind: SourceKind::FlowGraph,
        }),
        _ => Err(Error::Other(
            "give something to compile: a query file (QUERY.sql), a job or pipeline spec (SPEC.toml), -e 'SQL', or --flowgraph FILE.mlir"
                .into(),
        )),
    }
}

fn with_workers(session: Session, workers: Option<usize>) -> Session {
    match workers {
        Some(w) => session.with_workers(w),
        None => session,
    }
}

fn opt_level(level: u8) -> OptLevel {
    OptLevel::parse(&level.to_string()).expect("clap keeps the level in 0..=2")
}

/// The session for a source: SQL needs the catalog; a FlowGraph names its files itself.
fn session(q: &QueryArgs, source: &Source) -> Result<Session, Error> {
    let s = if source.kind == SourceKind::Sql {
        Session::open(&q.catalog)?
    } else {
        Session::without_catalog()
    };
    let mut s = with_workers(s, q.workers).with_opt_level(opt_level(q.optimize.opt_level));
    for path in &q.optimize.device_profile {
        let profile =
            skadi::DeviceProfile::from_json(&read_file(path)?, &path.display().to_string()).map_err(Error::Other)?;
        s = s.with_device_profile(profile);
    }
    Ok(match &q.optimize.passes {
        Some(passes) => s.with_passes(passes.clone()),
        None => s,
    })
}

/// The source as a FlowGraph, optimized as the arguments say, and (for a spec) where its
/// result goes.
fn flowgraph(session: &Session, source: &Source, q: &QueryArgs) -> Result<(FlowGraph, SpecOutput), Error> {
    let (mut graph, output) = match source.kind {
        SourceKind::Sql => (session.flowgraph(&source.text, &source.name)?, SpecOutput::default()),
        SourceKind::Job => {
            let (graph, path) = session.job_flowgraph(&source.text, &source.name)?;
            (graph, SpecOutput { path, model: None })
        }
        SourceKind::Pipeline => {
            let (graph, p) = session.pipeline_flowgraph(&source.text, &source.name)?;
            (
                graph,
                SpecOutput {
                    path: p.output,
                    model: p.model,
                },
            )
        }
        SourceKind::FlowGraph => (FlowGraph::parse(&source.text, &source.name)?, SpecOutput::default()),
    };
    let print = q.optimize.print_after_all;
    let runs = session.optimize(&mut graph, |pass, g| {
        if print {
            eprintln!("// -----// FlowGraph after {pass} //----- //\n{}", g.print());
        }
    })?;
    if q.optimize.time_passes {
        eprint!("{}", skadi::format_pass_timings(&runs));
    }
    Ok((graph, output))
}

fn plan(session: &Session, source: &Source, q: &QueryArgs) -> Result<PhysicalPlan, Error> {
    session.lower(&flowgraph(session, source, q)?.0)
}

/// Writes `bytes` to `path` through a temporary file renamed into place, or to stdout.
fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<(), Error> {
    let Some(path) = path else {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|_| out.flush())
            .map_err(|source| Error::Io {
                path: "<stdout>".into(),
                source,
            });
    };
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

type BenchFn = fn(
    &Path,
    &[(&str, &str)],
    usize,
    usize,
    bool,
    &mut dyn FnMut(&skadi::bench::BenchRow),
) -> Result<Vec<skadi::bench::BenchRow>, Error>;

fn bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template(template).expect("progress templates are valid"));
    bar
}

/// Runs `work` with a spinner saying `what` on standard error.
fn spinning<T>(what: &str, work: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    let spinner = bar(1, &format!("{{spinner}} {what} {{msg}}"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let result = work();
    spinner.finish_and_clear();
    result
}

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
        skadi::corpus::generate_text(&data, files, lines, 42)?;
    }
    let result = spinning("word count: skadi and the baseline", || {
        skadi::bench::bench_wordcount(&data, workers, runs)
    })?;
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
        skadi::corpus::generate_ml(&data, rows, features, 3, 42)?;
    }
    let python = skadi::bench::python_with("numpy");
    if python.is_none() {
        eprintln!("NumPy is not installed (`make bench-deps`): timing Skadi alone");
    }
    let result = spinning("linear regression: skadi and numpy", || {
        skadi::bench::bench_linreg(&data, workers, runs, epochs, python.as_deref())
    })?;
    Ok(result.report())
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Gen(Gen::Tpch { scale, out, files }) => {
            let progress = bar(
                skadi::tpch::TABLES.len() as u64,
                "{spinner} generating TPC-H [{bar:30}] {pos}/{len} {msg}",
            );
            skadi::tpch::generate(&out, scale, files, |table, rows| {
                progress.set_message(format!("{table}: {rows} rows"));
                progress.inc(1);
            })?;
            progress.finish_and_clear();
            eprintln!(
                "wrote TPC-H SF{scale} to {} ({} file(s) per large table)",
                out.display(),
                files.max(1)
            );
            Ok(())
        }
        Command::Gen(Gen::Text(a)) => {
            let spinner = bar(1, "{spinner} writing text files {msg}");
            spinner.enable_steady_tick(std::time::Duration::from_millis(100));
            skadi::corpus::generate_text(&a.out, a.files, a.lines, a.seed)?;
            spinner.finish_and_clear();
            eprintln!(
                "wrote {} text file(s) of {} lines to {}",
                a.files.max(1),
                a.lines,
                a.out.display()
            );
            Ok(())
        }
        Command::Gen(Gen::Ml(a)) => {
            let spinner = bar(1, "{spinner} writing ML tables {msg}");
            spinner.enable_steady_tick(std::time::Duration::from_millis(100));
            skadi::corpus::generate_ml(&a.out, a.rows, a.features, a.clusters, a.seed)?;
            spinner.finish_and_clear();
            let w: Vec<String> = skadi::corpus::true_coefficients(a.features)
                .iter()
                .map(|v| v.to_string())
                .collect();
            eprintln!(
                "wrote linear, logistic and blobs ({} rows each) to {}; y = [{}] · (1, x1..x{})",
                a.rows,
                a.out.display(),
                w.join(", "),
                a.features
            );
            Ok(())
        }
        Command::Gen(Gen::Logs(a)) => {
            let spinner = bar(1, "{spinner} writing access logs {msg}");
            spinner.enable_steady_tick(std::time::Duration::from_millis(100));
            skadi::corpus::generate_logs(&a.out, a.files, a.lines, a.seed)?;
            spinner.finish_and_clear();
            eprintln!(
                "wrote {} log file(s) of {} lines to {}",
                a.files.max(1),
                a.lines,
                a.out.display()
            );
            Ok(())
        }
        Command::Run(args) => {
            let (plan, session, job_output) = match &args.plan {
                Some(path) => {
                    let plan = PhysicalPlan::from_json(&read_file(path)?, &path.display().to_string())?;
                    (
                        plan,
                        with_workers(Session::without_catalog(), args.query.workers),
                        SpecOutput::default(),
                    )
                }
                None => {
                    let source = read_source(&args.query)?;
                    let session = session(&args.query, &source)?;
                    let (graph, job_output) = flowgraph(&session, &source, &args.query)?;
                    (session.lower(&graph)?, session, job_output)
                }
            };
            let tasks: usize = plan.stages.iter().map(|s| s.parallelism).sum();
            let progress = bar(tasks as u64, "{spinner} running [{bar:30}] {pos}/{len} tasks");
            let tick = |done: usize, _total: usize| progress.set_position(done as u64);
            let result = session.run_plan(&plan, Some(&tick))?;
            progress.finish_and_clear();
            // A spec's output path is where its rows (or model) go unless -o says otherwise.
            match (&args.output, &job_output.path) {
                (None, Some(path)) => {
                    skadi::write_pipeline_result(path, job_output.model.as_ref(), &result.batches)?;
                    match &job_output.model {
                        Some(m) if path.extension().is_some_and(|e| e == "json") => {
                            eprint!("{}", skadi::model_json(m, &result.batches).map_err(Error::Other)?);
                            eprintln!("wrote model '{}' to {}", m.name, path.display());
                        }
                        _ => {
                            let rows: usize = result.batches.iter().map(|b| b.num_rows()).sum();
                            eprintln!("wrote {rows} row(s) to {}", path.display());
                        }
                    }
                }
                _ => {
                    let bytes = skadi::format_batches(&result.batches, args.format)?;
                    write_output(args.output.as_deref(), &bytes)?;
                }
            }
            if std::io::stderr().is_terminal() {
                let rows: usize = result.batches.iter().map(|b| b.num_rows()).sum();
                eprintln!(
                    "{rows} row(s) in {:.1} ms ({} tasks on {} workers)",
                    result.elapsed.as_secs_f64() * 1e3,
                    result.tasks,
                    session.workers()
                );
            }
            Ok(())
        }
        Command::Compile(args) => {
            let source = read_source(&args.query)?;
            let session = session(&args.query, &source)?;
            let text = match args.emit {
                Emit::Logical if source.kind == SourceKind::Sql => session.logical_plan(&source.text, &source.name)?,
                Emit::Logical => return Err(Error::Other("--emit logical needs SQL input".into())),
                Emit::Flowgraph => flowgraph(&session, &source, &args.query)?.0.print_with_locations(),
                Emit::Physical => skadi::to_mlir(&plan(&session, &source, &args.query)?)?,
                Emit::Json => {
                    let mut json = plan(&session, &source, &args.query)?.to_json();
                    json.push('\n');
                    json
                }
                Emit::Dot => skadi::to_dot(&plan(&session, &source, &args.query)?),
                Emit::Llvm => {
                    let plan = plan(&session, &source, &args.query)?;
                    session.backend().lower_bodies(&plan)?.llvm_ir
                }
            };
            write_output(args.output.as_deref(), text.as_bytes())
        }
        Command::Bench(Bench::Wordcount(a)) => {
            let workers = a.workers.unwrap_or_else(|| Session::without_catalog().workers());
            let report = bench_wordcount(a.data, a.files, a.lines, workers, a.runs)?;
            write_output(None, report.as_bytes())
        }
        Command::Bench(Bench::Linreg(a)) => {
            let workers = a.workers.unwrap_or_else(|| Session::without_catalog().workers());
            let report = bench_linreg(a.data, a.rows, a.features, a.epochs, workers, a.runs)?;
            write_output(None, report.as_bytes())
        }
        Command::Bench(Bench::Frontends(a)) => {
            let workers = a.workers.unwrap_or_else(|| Session::without_catalog().workers());
            let words = bench_wordcount(None, 8, 250_000, workers, a.runs)?;
            let epochs = bench_linreg(None, 2_000_000, 8, 100, workers, a.runs)?;
            write_output(None, format!("{words}\n{epochs}").as_bytes())
        }
        Command::Bench(which) => {
            let with_duckdb = matches!(which, Bench::Tpch(_));
            let (args, labels, bench): (_, _, BenchFn) = match which {
                Bench::Tpch(a) => (a, &skadi::bench::VS_DATAFUSION, skadi::bench::bench),
                Bench::Fusion(a) => (a, &skadi::bench::FUSED_VS_UNFUSED, skadi::bench::bench_fusion),
                Bench::Compile(a) => (a, &skadi::bench::COMPILE_VS_DATAFUSION, skadi::bench::bench_compile),
                Bench::Wordcount(_) | Bench::Linreg(_) | Bench::Frontends(_) => unreachable!("handled above"),
            };
            let scale = args.scale;
            let data = args
                .data
                .unwrap_or_else(|| PathBuf::from(format!("data/tpch-sf{scale}")));
            if !data.join("lineitem.parquet").exists() && !data.join("lineitem").exists() {
                eprintln!("generating TPC-H SF{scale} into {}", data.display());
                skadi::tpch::generate(&data, scale, 1, |_, _| {})?;
            }
            let queries = &args.queries;
            if let Some(unknown) = queries
                .iter()
                .find(|q| !skadi::bench::TPCH_QUERIES.iter().any(|(n, _)| n == q))
            {
                return Err(Error::Other(format!(
                    "not supported yet: TPC-H {unknown} in the benchmark"
                )));
            }
            let selected: Vec<(&str, &str)> = skadi::bench::TPCH_QUERIES
                .iter()
                .filter(|(name, _)| queries.is_empty() || queries.iter().any(|q| q == name))
                .copied()
                .collect();
            let workers = args.workers.unwrap_or_else(|| Session::without_catalog().workers());
            let progress = bar(
                selected.len() as u64,
                "{spinner} benchmarking [{bar:30}] {pos}/{len} {msg}",
            );
            let mut rows = bench(&data, &selected, workers, args.runs, args.cold, &mut |row| {
                progress.set_message(format!("{}: {:.2}x", row.query, row.ratio()));
                progress.inc(1);
            })?;
            progress.finish_and_clear();
            if with_duckdb {
                match skadi::bench::python_with("duckdb") {
                    Some(python) => {
                        eprintln!("running the same queries on DuckDB ({})", python.display());
                        let times = skadi::bench::bench_duckdb(&python, &data, &selected, workers, args.runs)?;
                        for (row, t) in rows.iter_mut().zip(times) {
                            row.third = Some(t);
                        }
                    }
                    None => eprintln!("DuckDB is not installed (`make bench-deps`): comparing with DataFusion only"),
                }
            }
            write_output(None, skadi::bench::report(&rows, labels, workers).as_bytes())
        }
        Command::Explain(q) => {
            let source = read_source(&q)?;
            let session = session(&q, &source)?;
            write_output(None, skadi::explain(&plan(&session, &source, &q)?).as_bytes())
        }
        Command::Passes => write_output(None, skadi::describe_passes().as_bytes()),
        Command::Devices => {
            let session = Session::without_catalog();
            let registered = session.registered_backends();
            let mut out = String::new();
            for p in session.device_profiles() {
                out.push_str(&format!(
                    "{:<5} {:<14} {:.1e} rows/s, {:.1e} B/s, {} GiB{}\n      {}\n      runs: {}\n",
                    p.backend,
                    if registered.contains(&p.backend) {
                        "(registered)"
                    } else {
                        "(not built yet)"
                    },
                    p.rows_per_second,
                    p.bytes_per_second,
                    p.memory_bytes >> 30,
                    p.transfer_bytes_per_second
                        .map(|b| format!(", transfers at {b:.1e} B/s"))
                        .unwrap_or_default(),
                    p.description,
                    p.operators.join(", ")
                ));
            }
            write_output(None, out.as_bytes())
        }
        Command::Viz(args) => {
            let (plan, title) = match &args.plan {
                Some(path) => (
                    PhysicalPlan::from_json(&read_file(path)?, &path.display().to_string())?,
                    path.display().to_string(),
                ),
                None => {
                    let source = read_source(&args.query)?;
                    let session = session(&args.query, &source)?;
                    (plan(&session, &source, &args.query)?, source.name.clone())
                }
            };
            write_output(Some(&args.output), skadi::to_html(&plan, &title).as_bytes())?;
            eprintln!("wrote {} (open it in a browser)", args.output.display());
            Ok(())
        }
    }
}
