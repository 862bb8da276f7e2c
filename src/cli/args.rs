//! The command line's flags and subcommands (clap), with the help text they print.

use clap::{Args, Parser, Subcommand, ValueEnum};
use skadi::OutputFormat;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "skadi",
    version,
    about = "Skadi — a tiered dataflow compiler: SQL → FlowGraph (MLIR) → sharded physical plan → runtime",
    long_about = "Skadi compiles declarative work into FlowGraph, a verified MLIR module, lowers it to a sharded \
physical plan (a backend and degree of parallelism per vertex, a partitioning per edge) and runs that plan on its \
embedded runtime.\n\nA catalog is a directory: each *.parquet or *.csv file in it, or sub-directory of such files, \
is a table named after the file or directory (its stem up to the first dot).",
    after_help = "Examples:\n  skadi gen tpch --scale 0.1 --out data/tpch\n  skadi run --catalog data/tpch queries/tpch/q1.sql\n  skadi run --catalog data/tpch -e 'select count(*) from lineitem' --format csv\n  skadi explain --catalog data/tpch --workers 4 queries/tpch/q6.sql\n  skadi compile --catalog data/tpch queries/tpch/q6.sql --emit flowgraph\n  skadi compile --catalog data/tpch queries/tpch/q6.sql --emit json -o q6.plan.json\n  skadi run --plan q6.plan.json\n  skadi compile --catalog data/tpch queries/tpch/q3.sql --emit substrait -o q3.substrait\n  skadi run --catalog data/tpch --substrait q3.substrait\n  skadi compile --catalog data/tpch queries/tpch/q1.sql -O0 --print-after-all --passes fuse\n  skadi viz --catalog data/tpch queries/tpch/q1.sql -o q1.html\n  skadi compile --catalog data/tpch queries/tpch/q1.sql --emit dot | dot -Tsvg > q1.svg\n  skadi compile --catalog data/tpch queries/tpch/q6.sql -o q6.mlir && skadi explain --flowgraph q6.mlir"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
pub(crate) struct VizArgs {
    #[command(flatten)]
    pub(crate) query: QueryArgs,
    /// Draw a saved JSON plan instead of compiling a query.
    #[arg(long, conflicts_with_all = ["query", "sql", "flowgraph", "substrait"])]
    pub(crate) plan: Option<PathBuf>,
    /// The HTML file to write.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "plan.html")]
    pub(crate) output: PathBuf,
}

#[derive(Subcommand)]
pub(crate) enum Bench {
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
pub(crate) struct LinregArgs {
    /// Directory with linear.parquet [default: data/ml-bench, generated first if missing].
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
    /// Rows to generate when --data is missing.
    #[arg(long, default_value_t = 2_000_000)]
    pub(crate) rows: usize,
    /// Features to generate when --data is missing.
    #[arg(long, default_value_t = 8)]
    pub(crate) features: usize,
    /// Epochs timed (Skadi: the difference between a short and a long run).
    #[arg(long, default_value_t = 100)]
    pub(crate) epochs: usize,
    /// Timed runs per engine, after one warm-up run.
    #[arg(long, default_value_t = 3)]
    pub(crate) runs: usize,
    /// Skadi's workers and NumPy's BLAS threads [default: CPUs].
    #[arg(long, short = 'w')]
    pub(crate) workers: Option<usize>,
}

#[derive(Args)]
pub(crate) struct FrontendsArgs {
    /// Timed runs per engine, after one warm-up run.
    #[arg(long, default_value_t = 3)]
    pub(crate) runs: usize,
    /// Skadi's workers and NumPy's BLAS threads [default: CPUs].
    #[arg(long, short = 'w')]
    pub(crate) workers: Option<usize>,
}

#[derive(Args)]
pub(crate) struct WordCountArgs {
    /// Directory of text files [default: data/text-bench, generated first if missing].
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
    /// Files to generate when --data is missing.
    #[arg(long, default_value_t = 8)]
    pub(crate) files: usize,
    /// Lines per generated file.
    #[arg(long, default_value_t = 250_000)]
    pub(crate) lines: usize,
    /// Timed runs per engine, after one warm-up run.
    #[arg(long, default_value_t = 3)]
    pub(crate) runs: usize,
    /// Skadi's workers [default: CPUs].
    #[arg(long, short = 'w')]
    pub(crate) workers: Option<usize>,
}

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Scale factor of the data (generated first if --data lacks it).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) scale: f64,
    /// The catalog directory [default: data/tpch-sf<SCALE>].
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
    /// Queries to run, e.g. q1,q6 [default: all Skadi supports].
    #[arg(long, value_delimiter = ',')]
    pub(crate) queries: Vec<String>,
    /// Timed runs per query and engine, after one warm-up run.
    #[arg(long, default_value_t = 3)]
    pub(crate) runs: usize,
    /// Threads for each engine [default: CPUs].
    #[arg(long, short = 'w')]
    pub(crate) workers: Option<usize>,
    /// JIT-compile every run, as a query run once does. By default a run reuses the
    /// code compiled for the same bodies in an earlier run (the warm-up's).
    #[arg(long)]
    pub(crate) cold: bool,
}

#[derive(Subcommand)]
pub(crate) enum Gen {
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
pub(crate) struct MlArgs {
    /// Directory to write the tables into (a catalog).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Rows per table.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) rows: usize,
    /// Feature columns x1..xN.
    #[arg(long, default_value_t = 3)]
    pub(crate) features: usize,
    /// Blobs in the `blobs` table.
    #[arg(long, default_value_t = 3)]
    pub(crate) clusters: usize,
    /// Seed: the same seed writes the same tables.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
}

#[derive(Args)]
pub(crate) struct CorpusArgs {
    /// Directory to write the files into.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// How many files (each is one shard of a job's input).
    #[arg(long, default_value_t = 4)]
    pub(crate) files: usize,
    /// Lines per file.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) lines: usize,
    /// Seed: the same seed writes the same files.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
}

#[derive(Args)]
pub(crate) struct QueryArgs {
    /// The catalog directory holding the tables the query reads.
    #[arg(long, short = 'c', default_value = ".")]
    pub(crate) catalog: PathBuf,
    /// The file to compile: SQL, a job or pipeline spec (.toml), a FlowGraph module
    /// (.mlir) or a saved physical plan (.json); its extension says which.
    #[arg(conflicts_with_all = ["sql", "flowgraph", "substrait"])]
    pub(crate) query: Option<PathBuf>,
    /// The SQL query text itself.
    #[arg(short = 'e', long = "execute", value_name = "SQL", conflicts_with_all = ["flowgraph", "substrait"])]
    pub(crate) sql: Option<String>,
    /// Start from a FlowGraph module (`.mlir`, e.g. from `--emit flowgraph`) instead of SQL.
    #[arg(long, value_name = "FILE", conflicts_with = "substrait")]
    pub(crate) flowgraph: Option<PathBuf>,
    /// Start from a Substrait plan (protobuf or its JSON form) over the catalog's tables,
    /// as another engine hands it over (or `--emit substrait` writes it).
    #[arg(long, value_name = "FILE")]
    pub(crate) substrait: Option<PathBuf>,
    /// Cap on each vertex's parallelism and on worker threads [default: CPUs].
    #[arg(long, short = 'w')]
    pub(crate) workers: Option<usize>,
    #[command(flatten)]
    pub(crate) optimize: OptimizeArgs,
}

#[derive(Args)]
pub(crate) struct OptimizeArgs {
    /// Optimization level: 0 lowers the FlowGraph as written; 1 canonicalizes bodies,
    /// removes dead and duplicate vertices, prunes columns and pushes predicates into
    /// sources (Parquet row-group pruning); 2 also fuses row-wise vertices into pipelines
    /// and fuses physical vertices (`skadi passes` lists them).
    #[arg(short = 'O', value_name = "LEVEL", default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub(crate) opt_level: u8,
    /// Run exactly these FlowGraph passes, in order, instead of the level's pipeline.
    #[arg(long, value_delimiter = ',', value_name = "PASS,...")]
    pub(crate) passes: Option<Vec<String>>,
    /// Print the FlowGraph to standard error after every pass.
    #[arg(long)]
    pub(crate) print_after_all: bool,
    /// Print how long each pass took to standard error.
    #[arg(long)]
    pub(crate) time_passes: bool,
    /// A device profile (JSON, docs/DEVICE_PROFILES.md) replacing the built-in one of its
    /// backend in the cost model; repeatable.
    #[arg(long, value_name = "FILE")]
    pub(crate) device_profile: Vec<PathBuf>,
}

#[derive(Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) query: QueryArgs,
    /// Run a physical plan saved with `skadi compile --emit json` instead of SQL.
    #[arg(long, conflicts_with_all = ["query", "sql", "flowgraph", "substrait"])]
    pub(crate) plan: Option<PathBuf>,
    /// How to write the rows [default: the table on standard output; with -o, what the
    /// file's extension names: .csv, .json/.jsonl, .parquet, else the table]. A table of
    /// more than 40 rows shows the first and last 20 and the row count.
    #[arg(long, short = 'f', value_enum)]
    pub(crate) format: Option<OutputFormat>,
    /// Write the rows to FILE (a regular file or a new one; a symbolic link is written
    /// through) instead of standard output; `-` is standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Emit {
    /// DataFusion's optimized logical plan, the SQL frontend's input.
    Logical,
    /// The query's Substrait plan as protobuf bytes (for another engine; `-o FILE`):
    /// DataFusion's optimized logical plan. SQL input only.
    Substrait,
    /// The same Substrait plan in its JSON form.
    SubstraitJson,
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

impl Emit {
    /// Its name on the command line (`substrait-json`).
    pub(crate) fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

#[derive(Args)]
pub(crate) struct CompileArgs {
    #[command(flatten)]
    pub(crate) query: QueryArgs,
    /// Which form to print.
    #[arg(long, value_enum, default_value_t = Emit::Flowgraph)]
    pub(crate) emit: Emit,
    /// Write to FILE instead of standard output (`-`).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}
