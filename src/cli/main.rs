//! The `skadi` command line: parses flags, asks the library's `Session` (which tells
//! sources apart, compiles and runs them), and renders what comes back — rows, plans,
//! progress and errors. `gen` and `bench` drive the workloads crate's generators and
//! peers.

mod args;
mod bench;
mod diagnostics;
mod generate;
mod progress;

use args::{Cli, Command, CompileArgs, Emit, OptimizeArgs, QueryArgs, RunArgs, VizArgs};
use clap::Parser;
use skadi::{Compiled, Error, OptLevel, OutputFormat, Session, Source, SourceKind, SubstraitEncoding};
use std::{
    io::{IsTerminal, Write},
    path::Path,
    process::ExitCode,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    remove_partial_outputs_on_signals();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            diagnostics::report(&e);
            ExitCode::FAILURE
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP end the process as they would, after removing the output
/// files being written (so an interrupted run leaves no partial file behind).
fn remove_partial_outputs_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            skadi::remove_partial_outputs();
            std::process::exit(128 + signal);
        }
    });
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Gen(g) => generate::run(g),
        Command::Run(args) => run_source(args),
        Command::Compile(args) => compile(args),
        Command::Explain(q) => {
            let source = source(&q)?;
            let session = session(&q, &source)?;
            let plan = compile_source(&session, &source, &q.optimize)?.plan;
            write_output(None, skadi::explain(&plan).as_bytes())
        }
        Command::Bench(b) => bench::run(b),
        Command::Passes => write_output(None, skadi::describe_passes().as_bytes()),
        Command::Devices => devices(),
        Command::Viz(args) => viz(args),
    }
}

/// The source the arguments name: a file (its kind from its extension), `-e` SQL,
/// `--flowgraph FILE` or `--substrait FILE`.
fn source(q: &QueryArgs) -> Result<Source, Error> {
    match (&q.query, &q.sql, &q.flowgraph, &q.substrait) {
        (Some(path), None, None, None) => Source::read(path),
        (None, Some(sql), None, None) => Ok(Source::sql(sql.clone(), "<command line>")),
        (None, None, Some(path), None) => Source::read_as(SourceKind::FlowGraph, path),
        (None, None, None, Some(path)) => Source::read_as(SourceKind::Substrait, path),
        _ => Err(Error::Other(
            "give something to compile: a query file (QUERY.sql), a job or pipeline spec (SPEC.toml), a FlowGraph module (FILE.mlir), a saved plan (PLAN.json), -e 'SQL', --flowgraph FILE.mlir or --substrait FILE"
                .into(),
        )),
    }
}

/// A session with the arguments' settings: SQL reads the catalog; other sources name
/// their files themselves.
fn session(q: &QueryArgs, source: &Source) -> Result<Session, Error> {
    let s = if source.needs_catalog() {
        Session::open(&q.catalog)?
    } else {
        Session::without_catalog()
    };
    let mut s = with_workers(s, q.workers).with_opt_level(opt_level(q.optimize.opt_level));
    for path in &q.optimize.device_profile {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        let profile = skadi::DeviceProfile::from_json(&text, &path.display().to_string()).map_err(Error::Other)?;
        s = s.with_device_profile(profile);
    }
    Ok(match &q.optimize.passes {
        Some(passes) => s.with_passes(passes.clone()),
        None => s,
    })
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

/// What `after` should do with the graph after each pass: print it for
/// `--print-after-all`.
fn pass_printer(o: &OptimizeArgs) -> impl FnMut(&str, &skadi::FlowGraph) + use<> {
    let print = o.print_after_all;
    move |pass, g| {
        if print {
            eprintln!("// -----// FlowGraph after {pass} //----- //\n{}", g.print());
        }
    }
}

/// `--time-passes`: how long each pass took, on standard error.
fn report_pass_times(o: &OptimizeArgs, runs: &[skadi::PassRun]) {
    if o.time_passes {
        eprint!("{}", skadi::format_pass_timings(runs));
    }
}

fn compile_source(session: &Session, source: &Source, o: &OptimizeArgs) -> Result<Compiled, Error> {
    let compiled = session.compile_source(source, pass_printer(o))?;
    report_pass_times(o, &compiled.passes);
    Ok(compiled)
}

fn run_source(args: RunArgs) -> Result<(), Error> {
    let source = match &args.plan {
        Some(path) => Source::read_as(SourceKind::Plan, path)?,
        None => source(&args.query)?,
    };
    let session = session(&args.query, &source)?;
    let compiled = compile_source(&session, &source, &args.query.optimize)?;
    let plan = &compiled.plan;
    let tasks: usize = plan.stages.iter().map(|s| s.parallelism).sum();
    let bar = progress::bar(tasks as u64, "{spinner} running [{bar:30}] {pos}/{len} tasks");
    let tick = |done: usize, _total: usize| bar.set_position(done as u64);
    let result = session.run_plan(plan, Some(&tick))?;
    bar.finish_and_clear();
    // A spec's output path is where its rows (or model) go unless -o says otherwise.
    match (&args.output, &compiled.output) {
        (None, Some(path)) => {
            skadi::write_pipeline_result(path, compiled.model.as_ref(), &result.batches)?;
            match &compiled.model {
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
            let output = args.output.as_deref().filter(|p| *p != Path::new("-"));
            let format = match (args.format, output) {
                (Some(f), _) => f,
                (None, Some(path)) => OutputFormat::for_path(path).unwrap_or(OutputFormat::Table),
                (None, None) => OutputFormat::Table,
            };
            let bytes = skadi::format_batches(&result.batches, format)?;
            write_output(output, &bytes)?;
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

fn compile(args: CompileArgs) -> Result<(), Error> {
    let q = &args.query;
    let source = source(q)?;
    let session = session(q, &source)?;
    let text = match args.emit {
        Emit::Logical if source.kind == SourceKind::Sql => session.logical_plan(&source.text, &source.name)?,
        Emit::Substrait | Emit::SubstraitJson if source.kind == SourceKind::Sql => {
            let encoding = match args.emit {
                Emit::Substrait => SubstraitEncoding::Binary,
                _ => SubstraitEncoding::Json,
            };
            let to_terminal =
                args.output.as_deref().is_none_or(|p| p == Path::new("-")) && std::io::stdout().is_terminal();
            if encoding == SubstraitEncoding::Binary && to_terminal {
                return Err(Error::Other(
                    "--emit substrait writes protobuf bytes: give -o FILE, or use --emit substrait-json".into(),
                ));
            }
            let bytes = session.substrait(&source.text, &source.name, encoding)?;
            return write_output(args.output.as_deref(), &bytes);
        }
        Emit::Logical | Emit::Substrait | Emit::SubstraitJson => {
            return Err(Error::Other(format!("--emit {} needs SQL input", args.emit.name())));
        }
        Emit::Flowgraph => {
            let optimized = session.optimized(&source, pass_printer(&q.optimize))?;
            report_pass_times(&q.optimize, &optimized.passes);
            optimized.flowgraph.print_with_locations()
        }
        Emit::Physical => skadi::to_mlir(&compile_source(&session, &source, &q.optimize)?.plan)?,
        Emit::Json => {
            let mut json = compile_source(&session, &source, &q.optimize)?.plan.to_json();
            json.push('\n');
            json
        }
        Emit::Dot => skadi::to_dot(&compile_source(&session, &source, &q.optimize)?.plan),
        Emit::Llvm => {
            let plan = compile_source(&session, &source, &q.optimize)?.plan;
            session.backend().lower_bodies(&plan)?.llvm_ir
        }
    };
    write_output(args.output.as_deref(), text.as_bytes())
}

fn viz(args: VizArgs) -> Result<(), Error> {
    let source = match &args.plan {
        Some(path) => Source::read_as(SourceKind::Plan, path)?,
        None => source(&args.query)?,
    };
    let session = session(&args.query, &source)?;
    let plan = compile_source(&session, &source, &args.query.optimize)?.plan;
    write_output(Some(&args.output), skadi::to_html(&plan, &source.name).as_bytes())?;
    eprintln!("wrote {} (open it in a browser)", args.output.display());
    Ok(())
}

/// `skadi devices`: each device profile, and whether its backend is registered.
fn devices() -> Result<(), Error> {
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

/// Writes `bytes` to `path` (as `skadi::write_file` does: a temporary file renamed into
/// place), or to standard output when there is none or it is `-`.
fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<(), Error> {
    match path.filter(|p| *p != Path::new("-")) {
        Some(path) => skadi::write_file(path, bytes),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|_| out.flush())
                .map_err(|source| Error::Io {
                    path: "<stdout>".into(),
                    source,
                })
        }
    }
}
