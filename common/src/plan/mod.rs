//! The physical plan: FlowGraph after lowering. Every vertex has a backend and a degree of
//! parallelism (its shards); every edge a partitioning. Vertices joined by forward edges
//! share a stage, and stages are cut at exchanges (hash, gather, broadcast edges).
//!
//! The plan is data: a versioned JSON document that carries everything a worker needs to
//! run one shard — file slices per scan shard and the MLIR text of every body.

mod check;

use crate::{
    operators::{
        Aggregate, AggregateMode, Compare, Concat, Filter, FlatMap, Iterate, Join, Limit, Map, Match, Pick, Pipeline,
        Project, Scan, Sink, Sort, StringFunction, TopK, Union, Values, Window,
    },
    types::Column,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Bumped whenever the JSON layout changes incompatibly; readers reject other versions.
pub const PLAN_VERSION: u32 = 8;

/// The hash scheme of hash-partitioned edges: xxh3-64 over the Arrow row encoding of the
/// key columns, modulo the consumer's parallelism. Producers on any worker must agree on
/// it, so it is part of the plan format.
pub const HASH_SCHEME: &str = "xxh3_64(arrow_row(keys)) % parallelism";

pub type VertexId = usize;
pub type StageId = usize;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{path}:{line}:{column}: malformed physical plan: {message}")]
    Malformed {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: physical plan version {found} is not supported (this Skadi reads version {expected})")]
    Version { path: String, found: u64, expected: u32 },
    #[error("{path}: physical plan is inconsistent: {message}")]
    Inconsistent { path: String, message: String },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PhysicalPlan {
    pub version: u32,
    pub vertices: Vec<Vertex>,
    pub stages: Vec<Stage>,
    /// MLIR text of every body a vertex names, each a `func.func` over row scalars.
    pub bodies: Vec<Body>,
    /// The vertex whose output is the plan's result.
    pub output: VertexId,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Vertex {
    pub id: VertexId,
    pub op: Operator,
    pub backend: String,
    pub parallelism: usize,
    pub stage: StageId,
    pub inputs: Vec<Edge>,
    pub schema: Vec<Column>,
    /// Where in the user's source this vertex came from (`file:line:col`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Why the lowering chose this parallelism and backend, for `skadi explain`.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Edge {
    pub from: VertexId,
    pub partitioning: Partitioning,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Partitioning {
    /// Shard i feeds shard i of the consumer (same parallelism, same stage).
    Forward,
    /// Each row goes to consumer shard `hash(keys) % parallelism`.
    Hash { keys: Vec<String>, scheme: String },
    /// Every producer shard feeds the single consumer shard.
    Gather,
    /// Every producer shard feeds every consumer shard.
    Broadcast,
}

impl Partitioning {
    pub fn is_exchange(&self) -> bool {
        !matches!(self, Partitioning::Forward)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stage {
    pub id: StageId,
    pub parallelism: usize,
    /// The stage's vertices in topological order; the last one is the stage's output.
    pub vertices: Vec<VertexId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Body {
    pub name: String,
    pub mlir: String,
}

/// What a vertex computes: one operator's payload (see [`crate::operators`]), with what
/// lowering decided about it (an aggregate's mode, a join's build side, a training
/// vertex's threads), or a fused chain of operators.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operator {
    Scan(Scan),
    Filter(Filter),
    Project(Project),
    Map(Map),
    Pipeline(Pipeline),
    /// Operators run as one vertex, each streaming its batches into the next (a scan, the
    /// row-wise steps after it, a partial aggregate). The vertex's schema is the last
    /// step's; the first step reads the vertex's input.
    Fused {
        steps: Vec<Step>,
    },
    Aggregate {
        mode: AggregateMode,
        #[serde(flatten)]
        aggregate: Aggregate,
    },
    Sort(Sort),
    TopK(TopK),
    Window(Window),
    Limit(Limit),
    /// A join through a hash table built on input `build` (0 left, 1 right).
    HashJoin {
        #[serde(flatten)]
        join: Join,
        build: usize,
    },
    Match(Match),
    StringFunction(StringFunction),
    Pick(Pick),
    Concat(Concat),
    Compare(Compare),
    FlatMap(FlatMap),
    Union(Union),
    /// Literal rows, all produced by shard 0.
    Values(Values),
    /// Training; each pass is split over `threads` threads.
    Iterate {
        #[serde(flatten)]
        iterate: Iterate,
        threads: usize,
    },
    Sink(Sink),
}

/// One operator of a fused vertex, the schema it produces, and where in the user's
/// source it came from (errors in a step point there, not at the vertex's first step).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Step {
    pub op: Operator,
    pub schema: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Operator {
    /// The operator and, for a fused vertex, its steps', in order.
    pub fn flatten(&self) -> Vec<&Operator> {
        match self {
            Operator::Fused { steps } => steps.iter().map(|s| &s.op).collect(),
            op => vec![op],
        }
    }

    /// The body the operator calls and the columns it passes to it, if it calls one.
    pub fn body_call(&self) -> Option<(&str, &[String])> {
        match self {
            Operator::Filter(Filter { body, args })
            | Operator::Map(Map { body, args, .. })
            | Operator::Pipeline(Pipeline { body, args, .. })
            | Operator::Iterate {
                iterate: Iterate { body, args, .. },
                ..
            } => Some((body, args)),
            Operator::HashJoin { join, .. } => join.filter.as_deref().map(|b| (b, &join.filter_args[..])),
            _ => None,
        }
    }

    /// The body the operator calls, if any.
    pub fn body(&self) -> Option<&str> {
        self.body_call().map(|(body, _)| body)
    }

    /// The columns the operator passes to its body.
    pub fn body_args(&self) -> &[String] {
        self.body_call().map_or(&[], |(_, args)| args)
    }

    /// The name device profiles list and `skadi explain` shows.
    pub fn name(&self) -> &'static str {
        match self {
            Operator::Scan(_) => "scan",
            Operator::Filter(_) => "filter",
            Operator::Project(_) => "project",
            Operator::Map(_) => "map",
            Operator::Pipeline(_) => "pipeline",
            Operator::Fused { .. } => "fused",
            Operator::Aggregate { mode, .. } => mode.operator_name(),
            Operator::HashJoin { .. } => "hash_join",
            Operator::Match(_) => "match",
            Operator::StringFunction(_) => "string_function",
            Operator::Pick(_) => "pick",
            Operator::Concat(_) => "concat",
            Operator::Compare(_) => "compare",
            Operator::FlatMap(_) => "flat_map",
            Operator::Union(_) => "union",
            Operator::Values(_) => "values",
            Operator::Sort(_) => "sort",
            Operator::TopK(_) => "top_k",
            Operator::Window(_) => "window",
            Operator::Limit(_) => "limit",
            Operator::Iterate { .. } => "iterate",
            Operator::Sink(_) => "sink",
        }
    }
}

/// The operator as `skadi explain` shows it: each payload's own text, and what lowering
/// added.
impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operator::Scan(op) => op.fmt(f),
            Operator::Filter(op) => op.fmt(f),
            Operator::Project(op) => op.fmt(f),
            Operator::Map(op) => op.fmt(f),
            Operator::Pipeline(op) => op.fmt(f),
            Operator::Fused { steps } => {
                let steps: Vec<String> = steps.iter().map(|s| s.op.to_string()).collect();
                write!(f, "fused [{}]", steps.join(" → "))
            }
            Operator::Aggregate { mode, aggregate } => write!(f, "{} {aggregate}", mode.operator_name()),
            Operator::HashJoin { join, build } => {
                write!(
                    f,
                    "hash_join {join} build={}",
                    if *build == 0 { "left" } else { "right" }
                )
            }
            Operator::Match(op) => op.fmt(f),
            Operator::StringFunction(op) => op.fmt(f),
            Operator::Pick(op) => op.fmt(f),
            Operator::Concat(op) => op.fmt(f),
            Operator::Compare(op) => op.fmt(f),
            Operator::FlatMap(op) => op.fmt(f),
            Operator::Union(op) => op.fmt(f),
            Operator::Values(op) => op.fmt(f),
            Operator::Sort(op) => op.fmt(f),
            Operator::TopK(op) => op.fmt(f),
            Operator::Window(op) => op.fmt(f),
            Operator::Limit(op) => op.fmt(f),
            Operator::Iterate { iterate, threads } => write!(f, "{iterate} threads={threads}"),
            Operator::Sink(op) => op.fmt(f),
        }
    }
}

impl PhysicalPlan {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a physical plan always serializes")
    }

    /// Reads a plan written by [`PhysicalPlan::to_json`]; `path` only names the source in
    /// errors. Rejects other versions and plans whose references do not resolve.
    pub fn from_json(text: &str, path: &str) -> Result<PhysicalPlan, PlanError> {
        let malformed = |e: serde_json::Error| PlanError::Malformed {
            path: path.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(malformed)?;
        let found = value.get("version").and_then(|v| v.as_u64());
        match found {
            Some(v) if v == u64::from(PLAN_VERSION) => {}
            Some(v) => {
                return Err(PlanError::Version {
                    path: path.into(),
                    found: v,
                    expected: PLAN_VERSION,
                });
            }
            None => {
                return Err(PlanError::Malformed {
                    path: path.into(),
                    line: 1,
                    column: 1,
                    message: "missing \"version\"".into(),
                });
            }
        }
        let plan: PhysicalPlan = serde_json::from_str(text).map_err(malformed)?;
        plan.check().map_err(|message| PlanError::Inconsistent {
            path: path.into(),
            message,
        })?;
        Ok(plan)
    }

    /// The vertices that read `id`'s output, with the index of the input edge they read
    /// it on (a vertex may read one producer on two edges).
    pub fn consumers(&self, id: VertexId) -> impl Iterator<Item = (&Vertex, usize, &Edge)> {
        self.vertices.iter().flat_map(move |v| {
            v.inputs
                .iter()
                .enumerate()
                .filter(move |(_, e)| e.from == id)
                .map(move |(k, e)| (v, k, e))
        })
    }

    pub fn body(&self, name: &str) -> Option<&Body> {
        self.bodies.iter().find(|b| b.name == name)
    }
}
