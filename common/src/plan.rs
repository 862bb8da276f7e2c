//! The physical plan: FlowGraph after lowering. Every vertex has a backend and a degree of
//! parallelism (its shards); every edge a partitioning. Vertices joined by forward edges
//! share a stage, and stages are cut at exchanges (hash, gather, broadcast edges).
//!
//! The plan is data: a versioned JSON document that carries everything a worker needs to
//! run one shard — file slices per scan shard and the MLIR text of every body.

use crate::types::Column;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Bumped whenever the JSON layout changes incompatibly; readers reject other versions.
pub const PLAN_VERSION: u32 = 5;

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operator {
    /// Reads `columns` of the files; `shards[i]` is what shard i reads.
    Scan {
        table: String,
        format: String,
        columns: Vec<String>,
        shards: Vec<Vec<FileSlice>>,
    },
    /// Keeps the rows for which `body(args...)` is true.
    Filter {
        body: String,
        args: Vec<String>,
    },
    /// Builds each output column from an input column or a result of `body(args...)`.
    Project {
        body: Option<String>,
        args: Vec<String>,
        exprs: Vec<ProjectExpr>,
    },
    /// A fused row-wise step: `body(args...)` once per row; when `keep` is set, rows whose
    /// result `keep` is false or NULL are dropped; output column i is `exprs[i]`. Result r
    /// is NULL where any of the args `strict[r]` is.
    Pipeline {
        body: String,
        args: Vec<String>,
        exprs: Vec<ProjectExpr>,
        keep: Option<usize>,
        strict: Vec<Vec<usize>>,
    },
    /// Operators run as one vertex, each streaming its batches into the next (a scan, the
    /// row-wise steps after it, a partial aggregate). The vertex's schema is the last
    /// step's; the first step reads the vertex's input.
    Fused {
        steps: Vec<Step>,
    },
    Aggregate {
        mode: AggregateMode,
        keys: Vec<String>,
        aggregates: Vec<AggregateCall>,
    },
    Sort {
        keys: Vec<SortKey>,
        fetch: Option<usize>,
    },
    Limit {
        skip: usize,
        fetch: Option<usize>,
    },
    /// Joins input 0 (left) and input 1 (right) on `left_keys[i] = right_keys[i]` (NULL
    /// equals nothing) through a hash table built on input `build`. Inner and outer kinds
    /// output left ++ right columns (outer kinds pad the unmatched side with NULLs); semi
    /// and anti output the left rows with / without a match. No keys pairs every row.
    /// `filter(filter_args...)`, over the joined row, is a further condition of a match.
    HashJoin {
        join_kind: JoinKind,
        left_keys: Vec<String>,
        right_keys: Vec<String>,
        build: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        filter_args: Vec<String>,
        /// Anti joins from `NOT IN`: a NULL key on either side makes the answer unknown.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        null_aware: bool,
    },
    /// Appends a boolean column: whether string column `column` equals (`Eq`) or is LIKE
    /// (`Like`) any of `patterns`; NULL where the column is.
    Match {
        column: String,
        match_kind: MatchKind,
        patterns: Vec<String>,
    },
    /// Appends `function(column, args...)`, a string function (see
    /// [`STRING_FUNCTIONS`]); NULL where the column is.
    StringFunction {
        function: String,
        column: String,
        args: Vec<String>,
    },
    /// One output row per piece of string column `column` (see [`FLAT_MAP_FUNCTIONS`]):
    /// the input's other columns repeated, then the piece (the last column). Rows whose
    /// column is NULL or has no pieces produce none.
    FlatMap {
        function: String,
        column: String,
        pattern: String,
    },
    /// Trains a model (see [`crate::ml`]) on all its input's rows: each pass calls
    /// `body(args..., state...)` on every row whose `strict` args are all non-NULL and
    /// sums its results; [`crate::ml::Training::update`] turns the sums into the next
    /// state. Each pass is split over `threads` threads. The output is one row: the state,
    /// then [`crate::ml::METRIC_COLUMNS`].
    Iterate {
        training: crate::ml::Training,
        body: String,
        args: Vec<String>,
        strict: Vec<usize>,
        threads: usize,
    },
    /// The plan's result: renames the columns to what the user asked for.
    Sink {
        names: Vec<String>,
    },
}

/// One operator of a fused vertex, and the schema it produces.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Step {
    pub op: Operator,
    pub schema: Vec<Column>,
}

impl Operator {
    /// The operator and, for a fused vertex, its steps', in order.
    pub fn flatten(&self) -> Vec<&Operator> {
        match self {
            Operator::Fused { steps } => steps.iter().map(|s| &s.op).collect(),
            op => vec![op],
        }
    }

    /// The body the operator calls, if any.
    pub fn body(&self) -> Option<&str> {
        match self {
            Operator::Filter { body, .. } | Operator::Pipeline { body, .. } | Operator::Iterate { body, .. } => {
                Some(body)
            }
            Operator::HashJoin { filter, .. } => filter.as_deref(),
            Operator::Project { body, .. } => body.as_deref(),
            _ => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Operator::Scan { .. } => "scan",
            Operator::Filter { .. } => "filter",
            Operator::Project { .. } => "project",
            Operator::Pipeline { .. } => "pipeline",
            Operator::Fused { .. } => "fused",
            Operator::Aggregate {
                mode: AggregateMode::Partial,
                ..
            } => "partial_aggregate",
            Operator::Aggregate {
                mode: AggregateMode::Final,
                ..
            } => "final_aggregate",
            Operator::Aggregate {
                mode: AggregateMode::Single,
                ..
            } => "aggregate",
            Operator::HashJoin { .. } => "hash_join",
            Operator::Match { .. } => "match",
            Operator::StringFunction { .. } => "string_function",
            Operator::FlatMap { .. } => "flat_map",
            Operator::Sort { .. } => "sort",
            Operator::Limit { .. } => "limit",
            Operator::Iterate { .. } => "iterate",
            Operator::Sink { .. } => "sink",
        }
    }
}

/// How a join treats rows without a match; see [`Operator::HashJoin`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    Semi,
    Anti,
}

impl JoinKind {
    pub const ALL: [JoinKind; 6] = [
        JoinKind::Inner,
        JoinKind::Left,
        JoinKind::Right,
        JoinKind::Full,
        JoinKind::Semi,
        JoinKind::Anti,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JoinKind::Inner => "inner",
            JoinKind::Left => "left",
            JoinKind::Right => "right",
            JoinKind::Full => "full",
            JoinKind::Semi => "semi",
            JoinKind::Anti => "anti",
        }
    }

    pub fn parse(name: &str) -> Option<JoinKind> {
        JoinKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the output carries the right input's columns (semi and anti do not).
    pub fn outputs_right(self) -> bool {
        !matches!(self, JoinKind::Semi | JoinKind::Anti)
    }

    /// Whether unmatched rows of input `side` (0 left, 1 right) are kept, NULL-padded.
    pub fn preserves(self, side: usize) -> bool {
        matches!(
            (self, side),
            (JoinKind::Left, 0) | (JoinKind::Right, 1) | (JoinKind::Full, _)
        )
    }
}

/// The functions of [`Operator::StringFunction`] and how many arguments each takes after
/// the string (fewest, most). Arguments are integers, except `regexp_extract`'s: a
/// regular expression and the number of the capture group to return (0: the whole match).
/// `length` and `to_number` (the text as the result column's number type, NULL where it
/// is not a number) return numbers; the others strings.
pub const STRING_FUNCTIONS: [(&str, usize, usize); 9] = [
    ("to_number", 0, 0),
    ("regexp_extract", 2, 2),
    ("substr", 1, 2),
    ("upper", 0, 0),
    ("lower", 0, 0),
    ("trim", 0, 0),
    ("ltrim", 0, 0),
    ("rtrim", 0, 0),
    ("length", 0, 0),
];

/// The columns of a source in format "text", a table of a file's lines: the file's path,
/// its file name, the line (without its line break; invalid UTF-8 replaced) and the
/// line's number from 1.
pub const TEXT_COLUMNS: [(&str, crate::ColumnType); 4] = [
    ("path", crate::ColumnType::Utf8),
    ("file", crate::ColumnType::Utf8),
    ("line", crate::ColumnType::Utf8),
    ("line_number", crate::ColumnType::Int64),
];

/// The functions of [`Operator::FlatMap`]: `split` cuts the string at each match of the
/// pattern (empty pieces are dropped); `tokens` returns each match of the pattern.
pub const FLAT_MAP_FUNCTIONS: [&str; 2] = ["split", "tokens"];

/// What a [`Operator::Match`] tests.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Equal to one of the patterns (`=`, `IN`).
    Eq,
    /// SQL `LIKE` one of the patterns (`%` any run, `_` one character).
    Like,
    /// Contains a match of one of the patterns, regular expressions (Rust `regex` syntax).
    Regex,
}

impl MatchKind {
    pub fn name(self) -> &'static str {
        match self {
            MatchKind::Eq => "eq",
            MatchKind::Like => "like",
            MatchKind::Regex => "regex",
        }
    }

    pub fn parse(name: &str) -> Option<MatchKind> {
        [MatchKind::Eq, MatchKind::Like, MatchKind::Regex]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileSlice {
    pub path: PathBuf,
    /// Parquet row groups to read; `None` reads the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_groups: Option<Vec<usize>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum ProjectExpr {
    /// The input column of that name, unchanged.
    Column(String),
    /// Result number N of the body.
    Body(usize),
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AggregateMode {
    /// Raw rows in, per-shard states out (`keys ++ states`).
    Partial,
    /// States in (after a hash exchange on the keys), final values out.
    Final,
    /// Raw rows in, final values out (one shard sees every row of its groups).
    Single,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AggregateFunction {
    Sum,
    Count,
    /// `count(*)`: rows, not values.
    CountRows,
    Min,
    Max,
    Avg,
    /// The group's values as a string: sorted, joined by ", ".
    Collect,
    /// The group's distinct values as a string: sorted, joined by ", ".
    CollectSet,
}

impl AggregateFunction {
    /// How many state columns a partial aggregate emits for this function.
    pub fn state_width(self) -> usize {
        match self {
            AggregateFunction::Avg => 2,
            _ => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AggregateFunction::Sum => "sum",
            AggregateFunction::Count | AggregateFunction::CountRows => "count",
            AggregateFunction::Min => "min",
            AggregateFunction::Max => "max",
            AggregateFunction::Avg => "avg",
            AggregateFunction::Collect => "collect",
            AggregateFunction::CollectSet => "collect_set",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AggregateCall {
    pub function: AggregateFunction,
    /// The input column; `None` only for `count(*)`.
    pub input: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SortKey {
    pub column: String,
    pub descending: bool,
    pub nulls_first: bool,
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

    /// Structural invariants the runtime relies on.
    pub fn check(&self) -> Result<(), String> {
        let n = self.vertices.len();
        if self.output >= n {
            return Err(format!("output vertex {} does not exist", self.output));
        }
        for (i, v) in self.vertices.iter().enumerate() {
            if v.id != i {
                return Err(format!("vertex at position {i} has id {}", v.id));
            }
            if v.parallelism == 0 {
                return Err(format!("vertex {i} has parallelism 0"));
            }
            if v.stage >= self.stages.len() {
                return Err(format!("vertex {i} names stage {} that does not exist", v.stage));
            }
            for e in &v.inputs {
                if e.from >= i {
                    return Err(format!("vertex {i} reads vertex {} that does not precede it", e.from));
                }
                let from = &self.vertices[e.from];
                let same_stage = from.stage == v.stage;
                if same_stage == e.partitioning.is_exchange() {
                    return Err(format!(
                        "edge {} -> {i}: forward edges stay inside a stage, exchanges cross stages",
                        e.from
                    ));
                }
                if same_stage && from.parallelism != v.parallelism {
                    return Err(format!("forward edge {} -> {i} changes parallelism", e.from));
                }
                if matches!(e.partitioning, Partitioning::Gather) && v.parallelism != 1 {
                    return Err(format!(
                        "vertex {i} gathers its input but has parallelism {}",
                        v.parallelism
                    ));
                }
            }
            let ops = v.op.flatten();
            for (k, op) in ops.iter().enumerate() {
                if let Operator::Scan { shards, .. } = op {
                    if shards.len() != v.parallelism {
                        return Err(format!(
                            "scan vertex {i} has {} shards for parallelism {}",
                            shards.len(),
                            v.parallelism
                        ));
                    }
                    if k > 0 || !v.inputs.is_empty() {
                        return Err(format!("vertex {i} scans, but not as its first step"));
                    }
                }
                if matches!(op, Operator::Fused { .. }) {
                    return Err(format!("vertex {i} nests fused steps"));
                }
                if let Some(b) = op.body()
                    && !self.bodies.iter().any(|x| x.name == b)
                {
                    return Err(format!("vertex {i} names body @{b} that the plan does not carry"));
                }
            }
        }
        // Stages wait on the stages they read through exchanges: that must not loop.
        let mut reads: Vec<Vec<usize>> = vec![Vec::new(); self.stages.len()];
        for v in &self.vertices {
            for e in v.inputs.iter().filter(|e| e.partitioning.is_exchange()) {
                reads[v.stage].push(self.vertices[e.from].stage);
            }
        }
        let mut state = vec![0u8; self.stages.len()]; // 0 new, 1 on the path, 2 done
        fn visit(s: usize, reads: &[Vec<usize>], state: &mut [u8]) -> bool {
            match state[s] {
                1 => return false,
                2 => return true,
                _ => {}
            }
            state[s] = 1;
            let acyclic = reads[s].iter().all(|&r| visit(r, reads, state));
            state[s] = 2;
            acyclic
        }
        if let Some(s) = (0..self.stages.len()).find(|&s| !visit(s, &reads, &mut state)) {
            return Err(format!("stage {s} waits on its own output through exchanges"));
        }
        for (i, s) in self.stages.iter().enumerate() {
            if s.id != i || s.vertices.is_empty() {
                return Err(format!("stage {i} is malformed"));
            }
            if s.vertices.iter().any(|&v| v >= n || self.vertices[v].stage != i) {
                return Err(format!("stage {i} lists a vertex of another stage"));
            }
        }
        Ok(())
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

impl AggregateFunction {
    /// The type of the aggregate's final value over an input of type `input` (`None` for
    /// `count(*)`), or `None` where that is not supported yet. Sums and averages of
    /// decimals and floats are computed in f64; sums of integers in i64.
    pub fn output_type(self, input: Option<crate::ColumnType>) -> Option<crate::ColumnType> {
        use crate::ColumnType as T;
        match (self, input) {
            (AggregateFunction::Count | AggregateFunction::CountRows, _) => Some(T::Int64),
            (AggregateFunction::Avg, Some(t)) if t.is_numeric() && t != T::Date32 => Some(T::Float64),
            (AggregateFunction::Sum, Some(T::Int8 | T::Int16 | T::Int32 | T::Int64)) => Some(T::Int64),
            (AggregateFunction::Sum, Some(T::Float32 | T::Float64 | T::Decimal(..))) => Some(T::Float64),
            (AggregateFunction::Min | AggregateFunction::Max, Some(T::Decimal(..))) => Some(T::Float64),
            (AggregateFunction::Min | AggregateFunction::Max, Some(t)) if t.is_numeric() => Some(t),
            (AggregateFunction::Collect | AggregateFunction::CollectSet, Some(_)) => Some(T::Utf8),
            _ => None,
        }
    }

    /// Whether partial states can be combined before the shuffle (a combiner): false for
    /// the collects, whose state is every value.
    pub fn combinable(self) -> bool {
        !matches!(self, AggregateFunction::Collect | AggregateFunction::CollectSet)
    }

    /// The types of the partial state columns for an input of type `input`.
    pub fn state_types(self, input: Option<crate::ColumnType>) -> Option<Vec<crate::ColumnType>> {
        use crate::ColumnType as T;
        Some(match self {
            AggregateFunction::Avg => vec![T::Float64, T::Int64],
            f => vec![f.output_type(input)?],
        })
    }
}
