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
    AggregateMode, Body, Column, Edge, FileSlice, HASH_SCHEME, JoinKind, Operator, PLAN_VERSION, Partitioning,
    PhysicalPlan, ProjectExpr, Stage, Step, Vertex,
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
    /// Estimated output rows of each vertex so far (see [`estimate`]).
    rows: Vec<f64>,
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
        options,
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
                l.rows[id] = rows;
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
            OpKind::Aggregate {
                keys,
                aggregates,
                combine,
            } => aggregate(
                &mut l,
                op,
                input.expect("aggregate has an input"),
                keys,
                aggregates,
                *combine,
                workers,
            ),
            OpKind::Iterate {
                training,
                body,
                args,
                strict,
            } => {
                use_body(body);
                let strict = strict.iter().filter_map(|s| args.iter().position(|a| a == s)).collect();
                let op_ = Operator::Iterate {
                    training: training.clone(),
                    body: body.clone(),
                    args: args.clone(),
                    strict,
                    threads: workers,
                };
                let why = format!(
                    "training makes passes over all rows, so it runs as one shard; each pass is split over {workers} thread(s)"
                );
                l.single(
                    op_,
                    op.schema.clone(),
                    input.expect("iterate has an input"),
                    location,
                    &why,
                )
            }
            OpKind::FlatMap {
                function,
                column,
                pattern,
            } => l.forward(
                Operator::FlatMap {
                    function: function.clone(),
                    column: column.clone(),
                    pattern: pattern.clone(),
                },
                op.schema.clone(),
                input.expect("a flat map has an input"),
                location,
            ),
            OpKind::StringFunction { function, column, args } => l.forward(
                Operator::StringFunction {
                    function: function.clone(),
                    column: column.clone(),
                    args: args.clone(),
                },
                op.schema.clone(),
                input.expect("a string function has an input"),
                location,
            ),
            OpKind::Match { column, kind, patterns } => l.forward(
                Operator::Match {
                    column: column.clone(),
                    match_kind: *kind,
                    patterns: patterns.clone(),
                },
                op.schema.clone(),
                input.expect("match has an input"),
                location,
            ),
            OpKind::Join {
                kind,
                left_keys,
                right_keys,
                filter,
                filter_args,
                null_aware,
            } => {
                if let Some(f) = filter {
                    use_body(f);
                }
                let hash_join = Operator::HashJoin {
                    join_kind: *kind,
                    left_keys: left_keys.clone(),
                    right_keys: right_keys.clone(),
                    build: 1,
                    filter: filter.clone(),
                    filter_args: filter_args.clone(),
                    null_aware: *null_aware,
                };
                let sides = [produced[op.inputs[0]], produced[op.inputs[1]]];
                join(&mut l, hash_join, op, sides, workers)
            }
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
    let (mut vertices, output, rows) = if options.fuse {
        fuse(l.vertices, output, &l.rows)
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
            | Operator::Match { .. }
            | Operator::StringFunction { .. }
            | Operator::FlatMap { .. }
            | Operator::Limit { .. }
            | Operator::Iterate { .. }
            | Operator::Aggregate {
                mode: AggregateMode::Partial | AggregateMode::Single,
                ..
            }
    );
    fusable && !edge.partitioning.is_exchange() && readers[edge.from] == 1
}

/// Estimated output rows of a vertex from its inputs': scans are set from file metadata;
/// a predicate keeps half; a grouped aggregate a tenth, an ungrouped one a row per shard;
/// a limit its fetch; an inner join as many as its larger side (a key joined to a
/// foreign key), an outer join its preserved sides, semi and anti joins half the left.
fn estimate(op: &Operator, parallelism: usize, inputs: &[f64]) -> f64 {
    let input: f64 = inputs.iter().sum();
    let side = |i: usize| inputs.get(i).copied().unwrap_or(0.0);
    match op {
        Operator::Scan { .. } => 0.0,
        Operator::Filter { .. } | Operator::Pipeline { keep: Some(_), .. } => input * 0.5,
        Operator::Aggregate { keys, .. } if keys.is_empty() => parallelism as f64,
        Operator::Aggregate { .. } => (input * 0.1).max(1.0),
        Operator::FlatMap { .. } => input * 10.0,
        Operator::Iterate { .. } => 1.0,
        Operator::Limit { fetch: Some(f), skip } => input.min((f + skip) as f64),
        Operator::HashJoin {
            join_kind,
            left_keys,
            filter,
            ..
        } => {
            let matched = if left_keys.is_empty() {
                side(0) * side(1)
            } else {
                side(0).max(side(1))
            };
            let matched = if filter.is_some() { matched * 0.5 } else { matched };
            match join_kind {
                JoinKind::Inner => matched,
                JoinKind::Left => matched.max(side(0)),
                JoinKind::Right => matched.max(side(1)),
                JoinKind::Full => matched.max(side(0) + side(1)),
                JoinKind::Semi | JoinKind::Anti => side(0) * 0.5,
            }
        }
        _ => input,
    }
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
    combine: bool,
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
    let combinable = aggregates.iter().all(|a| a.function.combinable());
    if !combine || !combinable {
        // No combiner: raw rows go to the shard that owns their group.
        let why = if combine {
            "collect keeps every value, so rows are not combined before the shuffle"
        } else {
            "no combiner: raw rows shuffled"
        };
        let (partitioning, p, reason) = if keys.is_empty() {
            (Partitioning::Gather, 1, format!("{why}; no group keys: gathered"))
        } else {
            let p = p_in.min(workers);
            (
                Partitioning::Hash {
                    keys: keys.to_vec(),
                    scheme: HASH_SCHEME.into(),
                },
                p,
                format!("{why}, hash-partitioned on the group keys into {p} shard(s)"),
            )
        };
        return l.add(
            make(AggregateMode::Single),
            op.schema.clone(),
            p,
            vec![Edge {
                from: input,
                partitioning,
            }],
            location,
            reason,
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

/// Rows of a build side up to which it is broadcast whatever the probe side's size.
const BROADCAST_ROWS: f64 = 100_000.0;

/// Lowers a join: picks the build side (the smaller for inner joins; otherwise the side
/// whose unmatched rows need no tracking), then broadcasts it to the probe side's shards
/// when that moves fewer rows than hash-partitioning both sides on the keys (or when it is
/// small), and hash-partitions both sides otherwise. Joins whose build side must see every
/// probe row (full joins without keys) gather both sides into one shard.
fn join(l: &mut Lowering, mut op_: Operator, op: &FlowOp, sides: [usize; 2], workers: usize) -> usize {
    let Operator::HashJoin {
        join_kind: kind,
        left_keys,
        right_keys,
        build,
        null_aware,
        ..
    } = &mut op_
    else {
        unreachable!("join() lowers hash joins");
    };
    let kind = *kind;
    let rows = [l.rows[sides[0]], l.rows[sides[1]]];
    // Semi and anti joins may build on the left (tracking its matched rows) unless NOT
    // IN semantics need every right key in each shard.
    *build = match kind {
        JoinKind::Inner if rows[0] < rows[1] => 0,
        JoinKind::Semi | JoinKind::Anti if !*null_aware && rows[0] < rows[1] => 0,
        JoinKind::Right => 0,
        _ => 1,
    };
    let build = *build;
    let probe = 1 - build;
    let keys = [left_keys.clone(), right_keys.clone()];
    let no_keys = keys[0].is_empty();
    let must_broadcast = no_keys || *null_aware;
    // A build side whose rows are emitted after probing must not be copied to every shard.
    let tracked = kind.preserves(build) || (build == 0 && matches!(kind, JoinKind::Semi | JoinKind::Anti));
    let can_broadcast = !tracked;
    let p_probe = l.vertices[sides[probe]].parallelism;
    let side_name = |s: usize| if s == 0 { "left" } else { "right" };
    let location = op.location.clone();
    let wants_broadcast = can_broadcast
        && (must_broadcast
            || p_probe == 1
            || rows[build] <= BROADCAST_ROWS
            || rows[build] * (p_probe - 1) as f64 <= rows[probe]);
    // The join runs in its probe side's stage; a broadcast build side must not be in or
    // depend on that stage (a scan both sides read, say), or the stage would wait on itself.
    let separate = |l: &Lowering, sides: [usize; 2]| {
        let probe_root = stage_root(&l.vertices, sides[probe]);
        !upstream(&l.vertices, sides[build]).any(|v| stage_root(&l.vertices, v) == probe_root)
    };
    let mut sides = sides;
    if wants_broadcast && !separate(l, sides) && matches!(l.vertices[sides[probe]].op, Operator::Scan { .. }) {
        // The probe side is a scan the build side also reads (after CSE): reading it
        // again costs less than hash-partitioning the probe rows.
        let scan = l.vertices[sides[probe]].clone();
        let reason = format!("{}; read again for a join whose build side reads it too", scan.reason);
        let copy = l.add(
            scan.op,
            scan.schema,
            scan.parallelism,
            scan.inputs,
            scan.location,
            reason,
        );
        l.rows[copy] = l.rows[sides[probe]];
        sides[probe] = copy;
    }
    let edge = |from: usize, partitioning: Partitioning| Edge { from, partitioning };
    let mut edges = [
        edge(sides[0], Partitioning::Forward),
        edge(sides[1], Partitioning::Forward),
    ];
    let (p, reason);
    if wants_broadcast && separate(l, sides) {
        p = p_probe;
        edges[build].partitioning = Partitioning::Broadcast;
        reason = format!(
            "{} join: builds on the {} side (~{:.0} rows), broadcast to the {p_probe} shard(s) of the {} side (~{:.0} rows){}",
            kind.name(),
            side_name(build),
            rows[build],
            side_name(probe),
            rows[probe],
            if must_broadcast && p_probe > 1 {
                if no_keys {
                    ": no keys to partition on"
                } else {
                    ": NOT IN needs every build key"
                }
            } else {
                ""
            }
        );
    } else if must_broadcast {
        p = 1;
        for e in &mut edges {
            e.partitioning = Partitioning::Gather;
        }
        reason = format!("{} join without keys: both sides gathered into one shard", kind.name());
    } else {
        let p_in = l.vertices[sides[0]].parallelism.max(l.vertices[sides[1]].parallelism);
        p = p_in.min(workers);
        for s in 0..2 {
            edges[s].partitioning = Partitioning::Hash {
                keys: keys[s].clone(),
                scheme: HASH_SCHEME.into(),
            };
        }
        reason = format!(
            "{} join: both sides hash-partitioned on the keys into {p} shard(s); builds on the {} side (~{:.0} rows){}",
            kind.name(),
            side_name(build),
            rows[build],
            if can_broadcast {
                format!(", too large to broadcast to {p_probe} shard(s)")
            } else {
                ", whose unmatched rows the join keeps".to_string()
            }
        );
    }
    // Only one input can be forward (a vertex belongs to its forward input's stage).
    if matches!(edges[0].partitioning, Partitioning::Forward) && matches!(edges[1].partitioning, Partitioning::Forward)
    {
        edges[build].partitioning = Partitioning::Broadcast;
    }
    for e in &mut edges {
        if matches!(e.partitioning, Partitioning::Forward) && l.vertices[e.from].parallelism != p {
            e.partitioning = Partitioning::Gather;
        }
    }
    l.add(op_, op.schema.clone(), p, edges.to_vec(), location, reason)
}

/// `v` and every vertex it reads, directly or not.
fn upstream(vertices: &[Vertex], v: usize) -> impl Iterator<Item = usize> {
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
fn stage_root(vertices: &[Vertex], mut v: usize) -> usize {
    while let Some(e) = vertices[v].inputs.iter().find(|e| !e.partitioning.is_exchange()) {
        v = e.from;
    }
    v
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
