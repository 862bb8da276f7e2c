//! Passes over FlowGraph. Each pass is a small unit that rewrites the MLIR module in place
//! (through `skadi_flowgraph`'s rewriting primitives, or MLIR's own passes for bodies);
//! the pass manager verifies the module after every pass, so a pass that breaks the IR is
//! named at once. Pipelines per optimization level:
//!
//! | level | passes |
//! |-------|--------|
//! | `-O0` | none: the frontend's graph is lowered as it is, one vertex per op |
//! | `-O1` | canonicalize, dce, cse, pushdown-semijoins, reduce-aggregates, prune-columns, pushdown-predicates |
//! | `-O2` | `-O1` with pushdown-maps before prune-columns, then fuse (default; fuse canonicalizes what it composed) |
//!
//! Lowering also fuses physical vertices (a scan, the row-wise vertices after it and a
//! partial aggregate become one vertex) at `-O2`.

mod canonicalize;
mod cse;
mod dce;
mod fuse;
mod maps;
mod prune;
mod pushdown;
mod reduce;
mod semijoin;

use skadi_flowgraph::{FlowGraph, FlowGraphError, GraphView};
use std::time::{Duration, Instant};

/// How many ops read each op's result.
pub(crate) fn reader_counts(view: &GraphView) -> Vec<usize> {
    let mut readers = vec![0usize; view.ops.len()];
    for op in &view.ops {
        for &i in &op.inputs {
            readers[i] += 1;
        }
    }
    readers
}

/// `op` and every op it reads, directly or not.
pub(crate) fn upstream(view: &GraphView, op: usize) -> impl Iterator<Item = usize> {
    let mut seen = vec![false; view.ops.len()];
    let mut todo = vec![op];
    while let Some(i) = todo.pop() {
        if !std::mem::replace(&mut seen[i], true) {
            todo.extend(&view.ops[i].inputs);
        }
    }
    seen.into_iter().enumerate().filter(|(_, s)| *s).map(|(i, _)| i)
}

/// The driver of rewrite passes: finds one rewrite in a fresh view, applies it (`apply`
/// gets the view it was found in), erases what died, and repeats until none is found.
/// Returns whether any was applied. One rewrite per view, since each renumbers the ops.
pub(crate) fn rewrite_until_done<R>(
    graph: &mut FlowGraph,
    find: impl Fn(&GraphView) -> Option<R>,
    mut apply: impl FnMut(&mut FlowGraph, &GraphView, R) -> Result<(), FlowGraphError>,
) -> Result<bool, FlowGraphError> {
    let mut changed = false;
    loop {
        let view = graph.view()?;
        let Some(rewrite) = find(&view) else {
            return Ok(changed);
        };
        apply(graph, &view, rewrite)?;
        graph.erase_dead()?;
        changed = true;
    }
}

/// One transformation of a FlowGraph.
pub trait Pass {
    /// The name `--passes` takes.
    fn name(&self) -> &'static str;
    /// One line for `skadi passes`.
    fn summary(&self) -> &'static str;
    /// Rewrites the graph; returns whether anything changed.
    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError>;
}

/// Every pass, in the order `skadi passes` lists them.
pub fn all_passes() -> Vec<Box<dyn Pass>> {
    vec![
        Box::new(canonicalize::Canonicalize),
        Box::new(dce::DeadVertices),
        Box::new(cse::CommonSubgraphs),
        Box::new(semijoin::PushdownSemiJoins),
        Box::new(reduce::ReduceAggregates),
        Box::new(maps::PushdownMaps),
        Box::new(prune::PruneColumns),
        Box::new(pushdown::PushdownPredicates),
        Box::new(fuse::Fuse),
    ]
}

/// `-O0`, `-O1`, `-O2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum OptLevel {
    O0,
    O1,
    #[default]
    O2,
}

impl OptLevel {
    pub fn parse(text: &str) -> Option<OptLevel> {
        match text.trim_start_matches("-O").trim_start_matches('O') {
            "0" => Some(OptLevel::O0),
            "1" => Some(OptLevel::O1),
            "2" => Some(OptLevel::O2),
            _ => None,
        }
    }

    /// The level's pass pipeline, by name.
    pub fn pipeline(self) -> Vec<&'static str> {
        let o1 = [
            "canonicalize",
            "dce",
            "cse",
            "pushdown-semijoins",
            "reduce-aggregates",
            "prune-columns",
            "pushdown-predicates",
        ];
        match self {
            OptLevel::O0 => vec![],
            OptLevel::O1 => o1.to_vec(),
            // Moving maps below joins pays once fusion joins them to the scans they read.
            OptLevel::O2 => o1
                .into_iter()
                .flat_map(|p| match p {
                    "prune-columns" => vec!["pushdown-maps", p],
                    _ => vec![p],
                })
                .chain(["fuse"])
                .collect(),
        }
    }

    /// Whether lowering fuses forward chains of physical vertices.
    pub fn fuses_vertices(self) -> bool {
        self >= OptLevel::O2
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error("unknown pass '{0}' (see `skadi passes` for the list)")]
    Unknown(String),
    #[error("pass '{pass}' failed: {error}")]
    Failed { pass: String, error: FlowGraphError },
}

/// What one pass did.
#[derive(Debug, Clone)]
pub struct PassRun {
    pub pass: &'static str,
    pub changed: bool,
    pub elapsed: Duration,
}

/// Runs passes in order, by name.
pub struct PassManager {
    passes: Vec<Box<dyn Pass>>,
}

impl PassManager {
    /// A manager for the named passes, in the given order (names may repeat).
    pub fn new<S: AsRef<str>>(names: &[S]) -> Result<PassManager, PassError> {
        let mut passes = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            let pass = all_passes()
                .into_iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| PassError::Unknown(name.to_string()))?;
            passes.push(pass);
        }
        Ok(PassManager { passes })
    }

    pub fn for_level(level: OptLevel) -> PassManager {
        PassManager::new(&level.pipeline()).expect("level pipelines name known passes")
    }

    /// Runs every pass, verifying the module after each that rewrote it; `after` sees
    /// the graph after each pass (for `--print-after-all`).
    pub fn run(
        &self,
        graph: &mut FlowGraph,
        mut after: impl FnMut(&str, &FlowGraph),
    ) -> Result<Vec<PassRun>, PassError> {
        let mut runs = Vec::new();
        for pass in &self.passes {
            let failed = |error| PassError::Failed {
                pass: pass.name().to_string(),
                error,
            };
            let start = Instant::now();
            let generation = graph.generation();
            let changed = pass.run(graph).map_err(failed)?;
            if graph.generation() != generation {
                graph.verify().map_err(failed)?;
            }
            runs.push(PassRun {
                pass: pass.name(),
                changed,
                elapsed: start.elapsed(),
            });
            after(pass.name(), graph);
        }
        Ok(runs)
    }
}

/// The `--time-passes` report.
pub fn format_timings(runs: &[PassRun]) -> String {
    let total: Duration = runs.iter().map(|r| r.elapsed).sum();
    let mut out = String::from("===-- Skadi pass timing --===\n");
    for r in runs {
        let share = if total.is_zero() {
            0.0
        } else {
            100.0 * r.elapsed.as_secs_f64() / total.as_secs_f64()
        };
        out.push_str(&format!(
            "  {:>9.3} ms  {share:5.1}%  {}{}\n",
            r.elapsed.as_secs_f64() * 1e3,
            r.pass,
            if r.changed { "" } else { "  (no change)" }
        ));
    }
    out.push_str(&format!("  {:>9.3} ms  100.0%  total\n", total.as_secs_f64() * 1e3));
    out
}

/// Every pass with its summary, then each level's pipeline (`skadi passes`).
pub fn describe() -> String {
    let mut out = String::from("FlowGraph passes (run a list with --passes a,b,c):\n");
    let passes = all_passes();
    let width = passes.iter().map(|p| p.name().len()).max().unwrap_or(0);
    for p in passes {
        out.push_str(&format!("  {:<width$}  {}\n", p.name(), p.summary()));
    }
    out.push_str("\nPipelines:\n");
    for level in [OptLevel::O0, OptLevel::O1, OptLevel::O2] {
        let passes = level.pipeline();
        out.push_str(&format!(
            "  -O{}  {}{}\n",
            level as u8,
            if passes.is_empty() {
                "(none)".to_string()
            } else {
                passes.join(",")
            },
            if level.fuses_vertices() {
                "; lowering fuses physical vertices"
            } else {
                ""
            }
        ));
    }
    out
}
