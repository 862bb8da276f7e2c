//! The physical plan's consistency: what [`PhysicalPlan::check`] verifies before any task
//! runs, so a plan from outside (a saved file, another engine) is refused with a reason
//! instead of making a task index past what it holds.

use super::{Operator, Partitioning, PhysicalPlan};
use crate::{
    AggregateMode, Choice, Column, ColumnType, Compare, Concat, Filter, FlatMap, Iterate, Join, Map, Match, Pick,
    Pipeline, Project, ProjectExpr, Scan, Sink, Sort, StringFunction, TopK,
};

impl PhysicalPlan {
    /// Everything the runtime and backends rely on, checked before any task runs:
    /// ids, edges and stages (forward edges inside a stage at its parallelism, exchanges
    /// across stages, gathers into one shard, no stage waiting on itself, one backend a
    /// stage), bodies present, and each operator against its input and output schemas
    /// (the columns it names exist, its result has the columns it makes, the indices it
    /// holds are in range: see [`check_operator`]).
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
            let stage = &self.stages[v.stage];
            if v.parallelism != stage.parallelism {
                return Err(format!(
                    "vertex {i} has parallelism {} but its stage {} has {}",
                    v.parallelism, v.stage, stage.parallelism
                ));
            }
            if stage.vertices.iter().filter(|&&x| x == i).count() != 1 {
                return Err(format!("vertex {i} is not listed once in its stage {}", v.stage));
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
                if let Operator::Scan(Scan { shards, .. }) = op {
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
            for e in &v.inputs {
                if let Partitioning::Hash { keys, .. } = &e.partitioning {
                    let from = &self.vertices[e.from].schema;
                    if let Some(k) = keys.iter().find(|k| !from.iter().any(|c| &c.name == *k)) {
                        return Err(format!(
                            "edge {} -> {i} hashes on '{k}', which vertex {} lacks",
                            e.from, e.from
                        ));
                    }
                }
            }
            let inputs: Vec<&[Column]> = v.inputs.iter().map(|e| &self.vertices[e.from].schema[..]).collect();
            check_operator(&v.op, &inputs, &v.schema).map_err(|m| format!("vertex {i} ({}): {m}", v.op.name()))?;
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
            let backend = &self.vertices[s.vertices[0]].backend;
            if let Some(&v) = s.vertices.iter().find(|&&v| self.vertices[v].backend != *backend) {
                return Err(format!(
                    "stage {i} mixes backends: vertex #{} runs on '{backend}', vertex #{v} on '{}' (a stage runs on one backend)",
                    s.vertices[0], self.vertices[v].backend
                ));
            }
        }
        Ok(())
    }
}

/// `op`, reading tables of schemas `inputs` (in edge order), makes a table of schema
/// `output`: the columns it names exist, its result has the columns it makes (by type,
/// in order), and what it indexes is in range. What a body returns is the backend's to
/// check against the body itself.
pub(crate) fn check_operator(op: &Operator, inputs: &[&[Column]], output: &[Column]) -> Result<(), String> {
    let one = || match inputs {
        [input] => Ok(*input),
        _ => Err(format!("reads {} inputs; it reads one", inputs.len())),
    };
    match op {
        Operator::Scan(Scan { columns, .. }) => {
            if !inputs.is_empty() {
                return Err("a scan reads no input".into());
            }
            arity(columns.len(), output, "file columns")
        }
        Operator::Values(values) => {
            if !inputs.is_empty() {
                return Err("values read no input".into());
            }
            values.check(output.len())
        }
        Operator::Fused { steps } => {
            let Some(last) = steps.last() else {
                return Err("has no steps".into());
            };
            check_operator(&steps[0].op, inputs, &steps[0].schema).map_err(|m| format!("step 0: {m}"))?;
            for (k, pair) in steps.windows(2).enumerate() {
                check_operator(&pair[1].op, &[&pair[0].schema], &pair[1].schema)
                    .map_err(|m| format!("step {}: {m}", k + 1))?;
            }
            same_types(&last.schema, output, "its last step's result")
        }
        Operator::Filter(Filter { args, .. }) => {
            let input = one()?;
            names(input, args)?;
            same_types(input, output, "its input")
        }
        Operator::Project(Project { columns }) => {
            let input = one()?;
            arity(columns.len(), output, "columns")?;
            for (c, out) in columns.iter().zip(output) {
                typed(column(input, c)?, out)?;
            }
            Ok(())
        }
        Operator::Map(Map { args, exprs, .. }) => {
            let input = one()?;
            names(input, args)?;
            passed(input, exprs, output)
        }
        Operator::Pipeline(Pipeline {
            args,
            exprs,
            strict,
            validity,
            fault,
            ..
        }) => {
            let input = one()?;
            names(input, args)?;
            if let Some(f) = fault
                && (strict.get(f.result).is_none() || f.what.is_empty())
            {
                return Err(format!(
                    "'fault' names result {} of {}, or says nothing",
                    f.result,
                    strict.len()
                ));
            }
            if let Some(a) = strict.iter().flatten().find(|&&a| a >= args.len()) {
                return Err(format!("'strict' names arg {a} of {}", args.len()));
            }
            if let Some(a) = validity.iter().find(|&&a| a >= args.len()) {
                return Err(format!("'validity' names arg {a} of {}", args.len()));
            }
            passed(input, exprs, output)
        }
        Operator::Aggregate { mode, aggregate } => {
            let input = one()?;
            names(input, &aggregate.keys)?;
            let states: usize = aggregate.aggregates.iter().map(|a| a.function.state_width()).sum();
            let calls = aggregate.aggregates.len();
            if *mode == AggregateMode::Final {
                arity(
                    aggregate.keys.len() + states,
                    input,
                    "keys and partial states in its input",
                )?;
            } else {
                for a in &aggregate.aggregates {
                    if let Some(c) = &a.input {
                        column(input, c)?;
                    }
                }
            }
            let width = if *mode == AggregateMode::Partial { states } else { calls };
            arity(aggregate.keys.len() + width, output, "keys and aggregates")
        }
        Operator::HashJoin { join, build } => {
            let [left, right] = inputs else {
                return Err(format!("reads {} inputs; a join reads two", inputs.len()));
            };
            let Join {
                join_kind,
                left_keys,
                right_keys,
                filter_args,
                filter_validity,
                ..
            } = join;
            if let Some(a) = filter_validity.iter().find(|&&a| a >= filter_args.len()) {
                return Err(format!(
                    "'filter_validity' names filter arg {a} of {}",
                    filter_args.len()
                ));
            }
            if *build > 1 {
                return Err(format!("builds on input {build}; a join has inputs 0 and 1"));
            }
            if left_keys.len() != right_keys.len() {
                return Err(format!(
                    "has {} left keys but {} right keys",
                    left_keys.len(),
                    right_keys.len()
                ));
            }
            for (l, r) in left_keys.iter().zip(right_keys) {
                let (l, r) = (column(left, l)?, column(right, r)?);
                if l.ty != r.ty {
                    return Err(format!(
                        "joins key '{}' ({}) with key '{}' ({}): join keys pair columns of one type",
                        l.name, l.ty, r.name, r.ty
                    ));
                }
            }
            let joined: Vec<Column> = left.iter().chain(right.iter()).cloned().collect();
            names(&joined, filter_args)?;
            let width = left.len() + if join_kind.outputs_right() { right.len() } else { 0 };
            arity(width, output, "joined columns")
        }
        Operator::Match(Match { column: c, .. }) | Operator::StringFunction(StringFunction { column: c, .. }) => {
            let input = one()?;
            column(input, c)?;
            arity(input.len() + 1, output, "input columns and the appended one")
        }
        Operator::Pick(Pick { index, choices }) => {
            let input = one()?;
            if let Some(i) = index
                && !matches!(
                    column(input, i)?.ty,
                    ColumnType::Int8 | ColumnType::Int16 | ColumnType::Int32 | ColumnType::Int64
                )
            {
                return Err(format!("picks by column '{i}', which is not an integer"));
            }
            if choices.is_empty() {
                return Err("has no choices".into());
            }
            for choice in choices {
                if let Choice::Column(c) = choice
                    && !column(input, c)?.ty.is_string()
                {
                    return Err(format!("picks column '{c}', which is not a string"));
                }
            }
            arity(input.len() + 1, output, "input columns and the picked one")?;
            match output.last() {
                Some(out) if out.ty.is_string() => Ok(()),
                _ => Err("its picked column is not a string".into()),
            }
        }
        Operator::Concat(Concat { parts, .. }) => {
            let input = one()?;
            for part in parts {
                if let Choice::Column(c) = part {
                    column(input, c)?;
                }
            }
            arity(input.len() + 1, output, "input columns and the concatenation")?;
            match output.last() {
                Some(out) if out.ty.is_string() => Ok(()),
                _ => Err("its concatenation is not a string".into()),
            }
        }
        Operator::Compare(Compare { left, right, .. }) => {
            let input = one()?;
            for c in [left, right] {
                if !column(input, c)?.ty.is_string() {
                    return Err(format!("compares column '{c}', which is not a string"));
                }
            }
            arity(input.len() + 1, output, "input columns and the comparison")?;
            match output.last() {
                Some(out) if out.ty == ColumnType::Bool => Ok(()),
                _ => Err("its comparison is not a bool".into()),
            }
        }
        Operator::FlatMap(FlatMap { column: c, .. }) => {
            let input = one()?;
            column(input, c)?;
            arity(input.len(), output, "columns (the piece in place of the split one)")
        }
        Operator::Iterate {
            iterate: Iterate {
                training, args, strict, ..
            },
            ..
        } => {
            let input = one()?;
            names(input, args)?;
            training.check()?;
            if let Some(a) = strict.iter().find(|&&a| a >= args.len()) {
                return Err(format!("'strict' names arg {a} of {}", args.len()));
            }
            arity(
                training.state_len() + crate::ml::METRIC_COLUMNS.len(),
                output,
                "state and metric columns",
            )
        }
        Operator::Sort(Sort { keys }) | Operator::TopK(TopK { keys, .. }) => {
            let input = one()?;
            for k in keys {
                column(input, &k.column)?;
            }
            same_types(input, output, "its input")
        }
        Operator::Window(window) => {
            let input = one()?;
            let types = window.check(input)?;
            arity(input.len() + types.len(), output, "input columns and one per call")?;
            same_types(input, &output[..input.len()], "its input")?;
            for (out, ty) in output[input.len()..].iter().zip(types) {
                if out.ty != ty {
                    return Err(format!(
                        "its column '{}' is {} but its call makes {ty}",
                        out.name, out.ty
                    ));
                }
            }
            Ok(())
        }
        Operator::Limit(_) => same_types(one()?, output, "its input"),
        Operator::Union(_) => {
            if inputs.is_empty() {
                return Err("a union reads at least one input".into());
            }
            inputs
                .iter()
                .try_for_each(|input| same_types(input, output, "each of its inputs"))
        }
        Operator::Sink(Sink { names: n }) => {
            let input = one()?;
            arity(input.len(), output, "input columns")?;
            arity(n.len(), output, "names")
        }
    }
}

fn column<'a>(schema: &'a [Column], name: &str) -> Result<&'a Column, String> {
    schema
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("names column '{name}', which its input lacks"))
}

fn names(schema: &[Column], names: &[String]) -> Result<(), String> {
    names.iter().try_for_each(|n| column(schema, n).map(|_| ()))
}

fn arity(expected: usize, schema: &[Column], what: &str) -> Result<(), String> {
    if schema.len() != expected {
        return Err(format!("its result has {} columns for {expected} {what}", schema.len()));
    }
    Ok(())
}

fn typed(from: &Column, to: &Column) -> Result<(), String> {
    if from.ty != to.ty {
        return Err(format!(
            "result column '{}' is {} but '{}' is {}",
            to.name, to.ty, from.name, from.ty
        ));
    }
    Ok(())
}

fn same_types(input: &[Column], output: &[Column], what: &str) -> Result<(), String> {
    arity(input.len(), output, what)?;
    input.iter().zip(output).try_for_each(|(i, o)| typed(i, o))
}

/// A map's or pipeline's output: one expression a column, a passed column of its type.
fn passed(input: &[Column], exprs: &[ProjectExpr], output: &[Column]) -> Result<(), String> {
    arity(exprs.len(), output, "expressions")?;
    for (e, out) in exprs.iter().zip(output) {
        if let ProjectExpr::Column(c) = e {
            typed(column(input, c)?, out)?;
        }
    }
    Ok(())
}
