//! Lowering: a verified FlowGraph → a sharded physical plan.
//!
//! Rules (each recorded in the vertex's `reason` for `skadi explain`):
//! - a scan's parallelism is its number of row groups (whole files for CSV), capped by
//!   the worker count; its shards get contiguous row groups of about equal rows;
//! - row-wise vertices (filter, project, map) keep their input's parallelism (forward);
//! - an aggregation over several shards splits into a partial aggregate per shard, a hash
//!   exchange on the group keys (a gather when there are none) and a final aggregate;
//! - a window hash-partitions its input on its PARTITION BY keys (gathers without any);
//! - sort, top_k, limit and the sink gather to one shard (a top_k or a limit first cuts
//!   each shard);
//! - stages are cut at exchanges;
//! - with `fuse`, a vertex whose only input is a forward edge from a vertex it alone reads
//!   joins that vertex when it is row-wise, a per-shard cut or a partial (or single-step)
//!   aggregate: a scan, its pipeline and its partial aggregate run as one vertex.
//!
//! Each op's payload moves into its vertex's operator; this file walks the ops, and
//! scans, aggregates, joins, fusion and row estimates have a file each.

mod aggregate;
mod estimate;
mod fuse;
mod join;
mod scan;
mod sets;

use crate::cost::{DeviceProfile, builtin_profiles, choose, row_bytes};
use estimate::estimate;
use skadi_common::{
    Body, Column, Edge, Exchange, HASH_SCHEME, Limit, Operator, PLAN_VERSION, Partitioning, PhysicalPlan, Project,
    Stage, Vertex,
};
use skadi_flowgraph::{FlowOp, GraphView, OpKind};

#[derive(Debug, Clone)]
pub struct LoweringOptions {
    /// Upper bound on any vertex's parallelism.
    pub workers: usize,
    /// Fuse forward chains of vertices into one (see the module docs).
    pub fuse: bool,
    /// What each backend costs (built-in profiles unless replaced).
    pub profiles: Vec<DeviceProfile>,
    /// The backends the runtime has: only these can be chosen.
    pub backends: Vec<String>,
}

impl Default for LoweringOptions {
    fn default() -> Self {
        LoweringOptions {
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            fuse: true,
            profiles: builtin_profiles(),
            backends: vec!["cpu".into()],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LowerError {
    #[error("{location}: cannot read input statistics: {message}")]
    Statistics { location: String, message: String },
    #[error("{location}: not supported yet: {what}")]
    Unsupported { location: String, what: String },
    #[error("{location}: {op} {message} (a FlowGraph the verifier should have refused)")]
    Malformed {
        location: String,
        op: String,
        message: String,
    },
}

fn malformed(op: &FlowOp, message: &str) -> LowerError {
    LowerError::Malformed {
        location: op.location.clone().unwrap_or_else(|| "<flowgraph>".into()),
        op: op.name.clone(),
        message: message.into(),
    }
}

struct Lowering {
    vertices: Vec<Vertex>,
    /// Estimated output rows of each vertex so far (see [`estimate`]).
    rows: Vec<f64>,
}

impl Lowering {
    fn add(
        &mut self,
        op: Operator,
        schema: Vec<Column>,
        parallelism: usize,
        inputs: Vec<Edge>,
        location: Option<String>,
        reason: String,
    ) -> usize {
        let id = self.vertices.len();
        let input_rows: Vec<f64> = inputs.iter().map(|e| self.rows[e.from]).collect();
        self.rows.push(estimate(&op, parallelism, &input_rows));
        self.vertices.push(Vertex {
            id,
            op,
            backend: "cpu".into(),
            parallelism,
            stage: 0,
            inputs,
            schema,
            location,
            reason,
        });
        id
    }

    /// A row-wise vertex on `input`'s shards.
    fn forward(&mut self, op: Operator, schema: Vec<Column>, input: usize, location: Option<String>) -> usize {
        let p = self.vertices[input].parallelism;
        let edge = Edge {
            from: input,
            partitioning: Partitioning::Forward,
        };
        self.add(
            op,
            schema,
            p,
            vec![edge],
            location,
            "row-wise: keeps its input's shards".into(),
        )
    }

    /// A vertex that must see all rows at once: gathered to one shard unless already there.
    fn single(
        &mut self,
        op: Operator,
        schema: Vec<Column>,
        input: usize,
        location: Option<String>,
        why: &str,
    ) -> usize {
        let p = self.vertices[input].parallelism;
        let partitioning = if p == 1 {
            Partitioning::Forward
        } else {
            Partitioning::Gather
        };
        let reason = if p == 1 {
            format!("{why}; its input is one shard")
        } else {
            format!("{why}: gathers {p} shards")
        };
        self.add(
            op,
            schema,
            1,
            vec![Edge {
                from: input,
                partitioning,
            }],
            location,
            reason,
        )
    }
}

/// Lowers a FlowGraph (through its view) to a physical plan.
pub fn lower(view: &GraphView, options: &LoweringOptions) -> Result<PhysicalPlan, LowerError> {
    let workers = options.workers.max(1);
    let mut l = Lowering {
        vertices: Vec::new(),
        rows: Vec::new(),
    };
    // The physical vertex that produces each flow op's result.
    let mut produced: Vec<usize> = Vec::with_capacity(view.ops.len());
    let mut bodies: Vec<Body> = Vec::new();
    let mut output = None;
    for op in &view.ops {
        let location = op.location.clone();
        let where_ = || location.clone().unwrap_or_else(|| op.name.clone());
        let input = op.inputs.first().map(|&i| produced[i]);
        let input = || input.ok_or_else(|| malformed(op, "has no input"));
        let mut use_body = |name: &str| {
            if !bodies.iter().any(|b| b.name == name) {
                let b = &view.bodies[name];
                bodies.push(Body {
                    name: b.name.clone(),
                    mlir: b.mlir.clone(),
                });
            }
        };
        let schema = op.schema.clone();
        let id = match op.kind.clone() {
            OpKind::Source(source) => {
                let (scan, rows, reason) = scan::lower(source, workers).map_err(|message| LowerError::Statistics {
                    location: where_(),
                    message,
                })?;
                let p = scan.shards.len();
                let id = l.add(Operator::Scan(scan), schema, p, vec![], location, reason);
                l.rows[id] = rows;
                id
            }
            OpKind::Values(values) => {
                let rows = values.rows.len();
                let reason = format!("{rows} literal row(s), in one shard");
                let id = l.add(Operator::Values(values), schema, 1, vec![], location, reason);
                l.rows[id] = rows as f64;
                id
            }
            OpKind::Filter(filter) => {
                use_body(&filter.body);
                l.forward(Operator::Filter(filter), schema, input()?, location)
            }
            OpKind::Project(project) => l.forward(Operator::Project(project), schema, input()?, location),
            OpKind::Map(map) => {
                use_body(&map.body);
                l.forward(Operator::Map(map), schema, input()?, location)
            }
            OpKind::Pipeline(pipeline) => {
                use_body(&pipeline.body);
                l.forward(Operator::Pipeline(pipeline), schema, input()?, location)
            }
            OpKind::Aggregate { aggregate, combine } => {
                aggregate::lower(&mut l, op, input()?, aggregate, combine, workers)
            }
            OpKind::Iterate(iterate) => {
                use_body(&iterate.body);
                let why = format!(
                    "training makes passes over all rows, so it runs as one shard; each pass is split over {workers} thread(s)"
                );
                let op_ = Operator::Iterate {
                    iterate,
                    threads: workers,
                };
                l.single(op_, schema, input()?, location, &why)
            }
            OpKind::Union(union) => {
                let inputs: Vec<usize> = op.inputs.iter().map(|&i| produced[i]).collect();
                sets::lower(&mut l, union, op, &inputs, workers)
            }
            OpKind::FlatMap(flat_map) => l.forward(Operator::FlatMap(flat_map), schema, input()?, location),
            OpKind::StringFunction(function) => {
                l.forward(Operator::StringFunction(function), schema, input()?, location)
            }
            OpKind::Match(matcher) => l.forward(Operator::Match(matcher), schema, input()?, location),
            OpKind::Pick(pick) => l.forward(Operator::Pick(pick), schema, input()?, location),
            OpKind::Concat(concat) => l.forward(Operator::Concat(concat), schema, input()?, location),
            OpKind::Compare(compare) => l.forward(Operator::Compare(compare), schema, input()?, location),
            OpKind::Join(join) => {
                if let Some(f) = &join.filter {
                    use_body(f);
                }
                let [left, right] = op.inputs[..] else {
                    return Err(malformed(op, "does not read two inputs"));
                };
                join::lower(&mut l, join, op, [produced[left], produced[right]], workers)
            }
            OpKind::Sort(sort) => l.single(Operator::Sort(sort), schema, input()?, location, "a total order"),
            OpKind::Window(window) => {
                let input = input()?;
                let p_in = l.vertices[input].parallelism;
                if p_in == 1 || window.partition_by.is_empty() {
                    let why = if window.partition_by.is_empty() {
                        "a window over all rows (no PARTITION BY)"
                    } else {
                        "a window"
                    };
                    l.single(Operator::Window(window), schema, input, location, why)
                } else {
                    let p = p_in.min(workers);
                    let edge = Edge {
                        from: input,
                        partitioning: Partitioning::Hash {
                            keys: window.partition_by.clone(),
                            scheme: HASH_SCHEME.into(),
                        },
                    };
                    let reason = format!("a window: hash-partitioned on its PARTITION BY keys into {p} shard(s)");
                    l.add(Operator::Window(window), schema, p, vec![edge], location, reason)
                }
            }
            OpKind::TopK(top) => {
                let mut input = input()?;
                if l.vertices[input].parallelism > 1 {
                    // Each shard keeps its own first rows; only those are gathered.
                    input = l.forward(Operator::TopK(top.clone()), schema.clone(), input, location.clone());
                }
                l.single(
                    Operator::TopK(top),
                    schema,
                    input,
                    location,
                    "the first rows in an order",
                )
            }
            OpKind::Limit(limit) => {
                let mut input = input()?;
                if l.vertices[input].parallelism > 1
                    && let Some(fetch) = limit.fetch
                {
                    // Each shard first cuts to what the global limit can keep.
                    let local = Operator::Limit(Limit {
                        skip: 0,
                        fetch: Some(fetch.saturating_add(limit.skip)),
                    });
                    input = l.forward(local, schema.clone(), input, location.clone());
                }
                l.single(Operator::Limit(limit), schema, input, location, "a global row count")
            }
            OpKind::Exchange(Exchange { partitioning, keys }) => {
                let input = input()?;
                let p_in = l.vertices[input].parallelism;
                let (partitioning, p) = match partitioning.as_str() {
                    "hash" => (
                        Partitioning::Hash {
                            keys,
                            scheme: HASH_SCHEME.into(),
                        },
                        p_in.min(workers),
                    ),
                    "broadcast" => (Partitioning::Broadcast, p_in),
                    _ => (Partitioning::Gather, 1),
                };
                let columns = schema.iter().map(|c| c.name.clone()).collect();
                let edge = Edge {
                    from: input,
                    partitioning,
                };
                let reason = "an explicit exchange in the FlowGraph".to_string();
                l.add(
                    Operator::Project(Project { columns }),
                    schema,
                    p,
                    vec![edge],
                    location,
                    reason,
                )
            }
            OpKind::Sink(sink) => {
                let input = input()?;
                let schema = l.vertices[input].schema.clone();
                let id = l.single(Operator::Sink(sink), schema, input, location, "the result");
                output = Some(id);
                id
            }
        };
        produced.push(id);
    }
    let output = output.ok_or_else(|| LowerError::Unsupported {
        location: "<flowgraph>".into(),
        what: "a FlowGraph without a sink".into(),
    })?;
    let (mut vertices, output, rows) = if options.fuse {
        fuse::fuse(l.vertices, output, &l.rows)
    } else {
        (l.vertices, output, l.rows)
    };
    for (v, rows) in vertices.iter_mut().zip(rows) {
        let bytes = rows * row_bytes(&v.schema);
        let (backend, why) = choose(&options.profiles, &options.backends, &v.op, rows, bytes);
        v.backend = backend;
        v.reason = format!("{}; backend {why}", v.reason);
    }
    let stages = assign_stages(&mut vertices);
    Ok(PhysicalPlan {
        version: PLAN_VERSION,
        vertices,
        stages,
        bodies,
        output,
    })
}

/// A vertex starts a new stage when it has no forward input; otherwise it joins the
/// stage of its forward input.
fn assign_stages(vertices: &mut [Vertex]) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    for i in 0..vertices.len() {
        let forward = vertices[i]
            .inputs
            .iter()
            .find(|e| !e.partitioning.is_exchange())
            .map(|e| e.from);
        let stage = match forward {
            Some(from) => vertices[from].stage,
            None => {
                stages.push(Stage {
                    id: stages.len(),
                    parallelism: vertices[i].parallelism,
                    vertices: vec![],
                });
                stages.len() - 1
            }
        };
        vertices[i].stage = stage;
        stages[stage].vertices.push(i);
    }
    stages
}

/// `v` and every vertex it reads, directly or not.
pub(super) fn upstream(vertices: &[Vertex], v: usize) -> impl Iterator<Item = usize> {
    let mut seen = vec![false; vertices.len()];
    let mut todo = vec![v];
    while let Some(x) = todo.pop() {
        if !std::mem::replace(&mut seen[x], true) {
            todo.extend(vertices[x].inputs.iter().map(|e| e.from));
        }
    }
    seen.into_iter().enumerate().filter(|(_, s)| *s).map(|(i, _)| i)
}

/// The first vertex of `v`'s stage: where its chain of forward inputs starts.
pub(super) fn stage_root(vertices: &[Vertex], mut v: usize) -> usize {
    while let Some(e) = vertices[v].inputs.iter().find(|e| !e.partitioning.is_exchange()) {
        v = e.from;
    }
    v
}
