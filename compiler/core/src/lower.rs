//! Lowering: a verified FlowGraph → a sharded physical plan.
//!
//! Rules (each recorded in the vertex's `reason` for `skadi explain`):
//! - a scan's parallelism is its number of row groups (whole files for CSV), capped by
//!   the worker count; its shards get contiguous row groups of about equal rows;
//! - row-wise vertices (filter, project, map) keep their input's parallelism (forward);
//! - an aggregation over several shards splits into a partial aggregate per shard, a hash
//!   exchange on the group keys (a gather when there are none) and a final aggregate;
//! - sort, limit and the sink gather to one shard (a limit first cuts each shard);
//! - stages are cut at exchanges;
//! - with `fuse`, a vertex whose only input is a forward edge from a vertex it alone reads
//!   joins that vertex when it is row-wise or a partial (or single-step) aggregate: a scan,
//!   its pipeline and its partial aggregate run as one vertex.

use crate::{
    cost::{DeviceProfile, builtin_profiles, choose, row_bytes},
    statistics::{balance, scan_units},
};
use skadi_common::{
    AggregateMode, Body, Column, Edge, FileSlice, HASH_SCHEME, Operator, PLAN_VERSION, Partitioning, PhysicalPlan,
    ProjectExpr, Stage, Step, Vertex,
};
use skadi_flowgraph::{FlowOp, GraphView, MapExpr, OpKind};

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
}

struct Lowering<'a> {
    options: &'a LoweringOptions,
    vertices: Vec<Vertex>,
    /// Rows each scan vertex reads, from file metadata.
    scan_rows: std::collections::HashMap<usize, f64>,
}

impl Lowering<'_> {
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
        options,
        vertices: Vec::new(),
        scan_rows: Default::default(),
    };
    // The physical vertex that produces each flow op's result.
    let mut produced: Vec<usize> = Vec::with_capacity(view.ops.len());
    let mut bodies: Vec<Body> = Vec::new();
    let mut output = None;
    for op in &view.ops {
        let location = op.location.clone();
        let where_ = || location.clone().unwrap_or_else(|| op.name.clone());
        let input = op.inputs.first().map(|&i| produced[i]);
        let mut use_body = |name: &str| {
            if !bodies.iter().any(|b| b.name == name) {
                let b = &view.bodies[name];
                bodies.push(Body {
                    name: b.name.clone(),
                    mlir: b.mlir.clone(),
                });
            }
        };
        let id = match &op.kind {
            OpKind::Source {
                table,
                format,
                files,
                columns,
                prune,
            } => {
                let bounds: Vec<_> = prune.iter().filter_map(|b| skadi_flowgraph::parse_bound(b)).collect();
                let (units, pruned) = scan_units(format, files, &bounds).map_err(|message| LowerError::Statistics {
                    location: where_(),
                    message,
                })?;
                let unit_name = if format == "parquet" { "row groups" } else { "files" };
                let p = units.len().clamp(1, workers);
                let reason = format!(
                    "{} {unit_name} in {} file(s){}{}",
                    units.len(),
                    files.len(),
                    if pruned > 0 {
                        format!(" ({pruned} more ruled out by statistics: {})", prune.join(", "))
                    } else {
                        String::new()
                    },
                    if units.len() > workers {
                        format!(", capped by --workers {}", l.options.workers)
                    } else {
                        String::new()
                    }
                );
                let shards = if units.is_empty() {
                    vec![Vec::new()]
                } else {
                    balance(&units, p)
                };
                let shards = shards.into_iter().map(|units| slices(&units)).collect();
                let scan = Operator::Scan {
                    table: table.clone(),
                    format: format.clone(),
                    columns: columns.clone(),
                    shards,
                };
                let rows = units.iter().map(|u| u.rows.unwrap_or(0) as f64).sum();
                let id = l.add(scan, op.schema.clone(), p, vec![], location, reason);
                l.scan_rows.insert(id, rows);
                id
            }
            OpKind::Filter { body, args } => {
                use_body(body);
                l.forward(
                    Operator::Filter {
                        body: body.clone(),
                        args: args.clone(),
                    },
                    op.schema.clone(),
                    input.expect("filter has an input"),
                    location,
                )
            }
            OpKind::Project { columns } => {
                let exprs = columns.iter().map(|c| ProjectExpr::Column(c.clone())).collect();
                l.forward(
                    Operator::Project {
                        body: None,
                        args: vec![],
                        exprs,
                    },
                    op.schema.clone(),
                    input.expect("project has an input"),
                    location,
                )
            }
            OpKind::Map { body, args, exprs } => {
                use_body(body);
                let exprs = exprs.iter().map(project_expr).collect();
                let op_ = Operator::Project {
                    body: Some(body.clone()),
                    args: args.clone(),
                    exprs,
                };
                l.forward(op_, op.schema.clone(), input.expect("map has an input"), location)
            }
            OpKind::Pipeline {
                body,
                args,
                exprs,
                keep,
                strict,
            } => {
                use_body(body);
                let op_ = Operator::Pipeline {
                    body: body.clone(),
                    args: args.clone(),
                    exprs: exprs.iter().map(project_expr).collect(),
                    keep: *keep,
                    strict: strict.clone(),
                };
                l.forward(op_, op.schema.clone(), input.expect("pipeline has an input"), location)
            }
            OpKind::Aggregate { keys, aggregates } => aggregate(
                &mut l,
                op,
                input.expect("aggregate has an input"),
                keys,
                aggregates,
                workers,
            ),
            OpKind::Sort { keys } => {
                let input = input.expect("sort has an input");
                l.single(
                    Operator::Sort {
                        keys: keys.clone(),
                        fetch: None,
                    },
                    op.schema.clone(),
                    input,
                    location,
                    "a total order",
                )
            }
            OpKind::Limit { skip, fetch } => {
                let mut input = input.expect("limit has an input");
                if l.vertices[input].parallelism > 1 && fetch.is_some() {
                    let local = Operator::Limit {
                        skip: 0,
                        fetch: fetch.map(|f| f + skip),
                    };
                    input = l.forward(local, op.schema.clone(), input, location.clone());
                }
                l.single(
                    Operator::Limit {
                        skip: *skip,
                        fetch: *fetch,
                    },
                    op.schema.clone(),
                    input,
                    location,
                    "a global row count",
                )
            }
            OpKind::Exchange { partitioning, keys } => {
                let input = input.expect("exchange has an input");
                let p_in = l.vertices[input].parallelism;
                let (partitioning, p) = match partitioning.as_str() {
                    "hash" => (
                        Partitioning::Hash {
                            keys: keys.clone(),
                            scheme: HASH_SCHEME.into(),
                        },
                        p_in.min(workers),
                    ),
                    "broadcast" => (Partitioning::Broadcast, p_in),
                    _ => (Partitioning::Gather, 1),
                };
                let exprs = op.schema.iter().map(|c| ProjectExpr::Column(c.name.clone())).collect();
                let op_ = Operator::Project {
                    body: None,
                    args: vec![],
                    exprs,
                };
                l.add(
                    op_,
                    op.schema.clone(),
                    p,
                    vec![Edge {
                        from: input,
                        partitioning,
                    }],
                    location,
                    "an explicit exchange in the FlowGraph".into(),
                )
            }
            OpKind::Sink { names } => {
                let input = input.expect("sink has an input");
                let schema = l.vertices[input].schema.clone();
                let id = l.single(
                    Operator::Sink { names: names.clone() },
                    schema,
                    input,
                    location,
                    "the result",
                );
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
    let estimates = estimate_rows(&l.vertices, &l.scan_rows);
    let (mut vertices, output, rows) = if options.fuse {
        fuse(l.vertices, output, &estimates)
    } else {
        (l.vertices, output, estimates)
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

fn project_expr(e: &MapExpr) -> ProjectExpr {
    match e {
        MapExpr::Body(n) => ProjectExpr::Body(*n),
        MapExpr::Column(c) => ProjectExpr::Column(c.clone()),
    }
}

/// Whether `v` may run as a later step of the vertex that feeds it.
fn joins_its_input(v: &Vertex, readers: &[usize]) -> bool {
    let [edge] = v.inputs.as_slice() else { return false };
    let fusable = matches!(
        v.op,
        Operator::Filter { .. }
            | Operator::Project { .. }
            | Operator::Pipeline { .. }
            | Operator::Limit { .. }
            | Operator::Aggregate {
                mode: AggregateMode::Partial | AggregateMode::Single,
                ..
            }
    );
    fusable && !edge.partitioning.is_exchange() && readers[edge.from] == 1
}

/// Estimated output rows of each vertex: scans from file metadata; a predicate keeps half;
/// a grouped aggregate a tenth, an ungrouped one a row per shard; a limit its fetch.
fn estimate_rows(vertices: &[Vertex], scan_rows: &std::collections::HashMap<usize, f64>) -> Vec<f64> {
    let mut rows: Vec<f64> = Vec::with_capacity(vertices.len());
    for v in vertices {
        let input: f64 = v.inputs.iter().map(|e| rows[e.from]).sum();
        let r = match &v.op {
            Operator::Scan { .. } => scan_rows.get(&v.id).copied().unwrap_or(0.0),
            Operator::Filter { .. } | Operator::Pipeline { keep: Some(_), .. } => input * 0.5,
            Operator::Aggregate { keys, .. } if keys.is_empty() => v.parallelism as f64,
            Operator::Aggregate { .. } => (input * 0.1).max(1.0),
            Operator::Limit { fetch: Some(f), skip } => input.min((f + skip) as f64),
            _ => input,
        };
        rows.push(r);
    }
    rows
}

/// Merges forward chains into fused vertices; returns the new vertices, the output id and
/// each new vertex's rows (the most any of its steps handles).
fn fuse(vertices: Vec<Vertex>, output: usize, estimates: &[f64]) -> (Vec<Vertex>, usize, Vec<f64>) {
    let mut readers = vec![0usize; vertices.len()];
    for v in &vertices {
        for e in &v.inputs {
            readers[e.from] += 1;
        }
    }
    // new_id[i]: the fused vertex that old vertex i became part of.
    let mut new_id: Vec<usize> = Vec::with_capacity(vertices.len());
    let mut groups: Vec<Vec<Vertex>> = Vec::new();
    for v in vertices {
        if joins_its_input(&v, &readers) {
            let g = new_id[v.inputs[0].from];
            groups[g].push(v);
            new_id.push(g);
        } else {
            new_id.push(groups.len());
            groups.push(vec![v]);
        }
    }
    let mut rows = vec![0f64; groups.len()];
    for (i, &g) in new_id.iter().enumerate() {
        rows[g] = rows[g].max(estimates[i]);
    }
    let fused = groups
        .into_iter()
        .enumerate()
        .map(|(id, mut group)| {
            let mut first = group.remove(0);
            first.id = id;
            for e in &mut first.inputs {
                e.from = new_id[e.from];
            }
            if group.is_empty() {
                return first;
            }
            let names: Vec<&str> = std::iter::once(first.op.name())
                .chain(group.iter().map(|v| v.op.name()))
                .collect();
            let reason = format!("{}; fused {}", first.reason, names.join(" → "));
            let mut steps = vec![Step {
                op: first.op,
                schema: first.schema,
            }];
            steps.extend(group.into_iter().map(|v| Step {
                op: v.op,
                schema: v.schema,
            }));
            Vertex {
                schema: steps.last().expect("not empty").schema.clone(),
                op: Operator::Fused { steps },
                reason,
                ..first
            }
        })
        .collect();
    (fused, new_id[output], rows)
}

fn aggregate(
    l: &mut Lowering,
    op: &FlowOp,
    input: usize,
    keys: &[String],
    aggregates: &[skadi_common::AggregateCall],
    workers: usize,
) -> usize {
    let location = op.location.clone();
    let p_in = l.vertices[input].parallelism;
    let make = |mode| Operator::Aggregate {
        mode,
        keys: keys.to_vec(),
        aggregates: aggregates.to_vec(),
    };
    if p_in == 1 {
        let edge = Edge {
            from: input,
            partitioning: Partitioning::Forward,
        };
        return l.add(
            make(AggregateMode::Single),
            op.schema.clone(),
            1,
            vec![edge],
            location,
            "one input shard: aggregates in one step".into(),
        );
    }
    // Partial states: keys ++ one or two state columns per aggregate.
    // The keys keep their input names, so the final step and the exchange find them.
    let in_schema = &l.vertices[input].schema;
    let mut state_schema: Vec<Column> = keys
        .iter()
        .map(|k| {
            in_schema
                .iter()
                .find(|c| &c.name == k)
                .expect("the verifier checked the keys")
                .clone()
        })
        .collect();
    for (i, a) in aggregates.iter().enumerate() {
        let in_ty = a
            .input
            .as_ref()
            .and_then(|c| in_schema.iter().find(|x| &x.name == c))
            .map(|c| c.ty);
        let types = a
            .function
            .state_types(in_ty)
            .expect("the verifier checked aggregate input types");
        for (j, t) in types.into_iter().enumerate() {
            state_schema.push(Column::new(format!("__state{i}_{j}"), t, true));
        }
    }
    let partial = l.add(
        make(AggregateMode::Partial),
        state_schema,
        p_in,
        vec![Edge {
            from: input,
            partitioning: Partitioning::Forward,
        }],
        location.clone(),
        "partial aggregate on each input shard".into(),
    );
    let (partitioning, p, reason) = if keys.is_empty() {
        (
            Partitioning::Gather,
            1,
            "no group keys: gathers the partial states".to_string(),
        )
    } else {
        let p = p_in.min(workers);
        let reason = format!(
            "hash-partitioned on the group keys into {p} shard(s) (min of {p_in} input shards and --workers {workers})"
        );
        (
            Partitioning::Hash {
                keys: keys.to_vec(),
                scheme: HASH_SCHEME.into(),
            },
            p,
            reason,
        )
    };
    l.add(
        make(AggregateMode::Final),
        op.schema.clone(),
        p,
        vec![Edge {
            from: partial,
            partitioning,
        }],
        location,
        reason,
    )
}

fn slices(units: &[crate::statistics::ScanUnit]) -> Vec<FileSlice> {
    let mut out: Vec<FileSlice> = Vec::new();
    for u in units {
        match (out.last_mut(), u.row_group) {
            (Some(last), Some(rg)) if last.path.to_str() == Some(u.file.as_str()) => {
                last.row_groups.get_or_insert_with(Vec::new).push(rg);
            }
            _ => out.push(FileSlice {
                path: u.file.clone().into(),
                row_groups: u.row_group.map(|rg| vec![rg]),
            }),
        }
    }
    out
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
