//! Kernel planning: which compiled kernels a plan's vertices call, and in which forms.
//! The same functions decide it when a plan is compiled ([`plan_kernels`]) and when its
//! shards run (the stage driver asks [`op_kernel`] and [`step_schemas`]), so the two
//! agree on every kernel's argument forms.

use crate::{fold, jit::Signature, kernel, kernel::KernelSpec};
use arrow::datatypes::{Schema, SchemaRef};
use skadi_common::{
    Column, Iterate, Map, Match, Operator, PhysicalPlan, Pipeline, ProjectExpr, Step, StringFunction, Vertex,
    types::to_arrow_schema,
};
use std::{collections::HashMap, sync::Arc};

pub(crate) fn plan_bodies(plan: &PhysicalPlan) -> Vec<(String, String)> {
    plan.bodies.iter().map(|b| (b.name.clone(), b.mlir.clone())).collect()
}

/// The kernel for `body` over `args` of a batch with schema `input`: decimals of
/// precision ≤ 18 are read in place and converted in the loop.
pub(crate) fn kernel_spec(body: &str, args: &[String], input: &Schema, guard: Option<usize>) -> KernelSpec {
    let forms = args
        .iter()
        .map(|a| {
            input
                .field_with_name(a)
                .ok()
                .and_then(|f| kernel::decimal_form(f.data_type()))
        })
        .collect();
    KernelSpec {
        body: body.to_string(),
        forms,
        guard,
        reduce: None,
        fold: None,
        predicate: None,
    }
}

/// The kernel `op` calls on batches of schema `input`, if it calls one.
pub(crate) fn op_kernel(op: &Operator, input: &Schema) -> Option<KernelSpec> {
    let body = op.body()?;
    Some(match op {
        // A training step sums over rows the operator has converted to the body's types.
        Operator::Iterate {
            iterate: Iterate { args, .. },
            ..
        } => KernelSpec {
            body: body.to_string(),
            forms: vec![None; args.len()],
            guard: None,
            reduce: Some(args.len()),
            fold: None,
            predicate: None,
        },
        // A pipeline's kernel branches on its kept-rows result, unless the body can fail
        // on rows it drops: then every row's fault is stored, kept or not (the rows a
        // filter drops fail too, as where it runs alone).
        _ => {
            let guard = match op {
                Operator::Pipeline(p) if p.fault.as_ref().is_none_or(|f| f.kept) => p.keep,
                _ => None,
            };
            let mut spec = kernel_spec(body, op.body_args(), input, guard);
            // A three-valued body's args' validity comes after them, as bytes.
            spec.forms.extend(validity_args(op).iter().map(|_| None));
            spec
        }
    })
}

/// The args whose validity a three-valued body takes after them (a pipeline's, a join
/// filter's); none for other bodies.
fn validity_args(op: &Operator) -> &[usize] {
    match op {
        Operator::Pipeline(p) => &p.validity,
        Operator::HashJoin { join, .. } => &join.filter_validity,
        _ => &[],
    }
}

/// The Arrow schema each step of a fused vertex produces. A scan whose pipeline follows
/// it (directly, or after string matches and functions, which pass every column on)
/// reads as Decimal64 each decimal column (precision ≤ 18) that only compiled code
/// reads: the pipeline's body, or a fold into the aggregate after it that sees no NULL
/// (fold.rs), not passed on as a column. Kernels read such a column in place either
/// way, and Parquet then decodes 8-byte values into 8-byte slots instead of widening
/// each to 16 bytes (a third of a scan's time, for a table of decimals).
pub(crate) fn step_schemas(steps: &[Step]) -> Vec<SchemaRef> {
    use arrow::datatypes::DataType;
    let mut schemas: Vec<Schema> = steps.iter().map(|s| to_arrow_schema(&s.schema)).collect();
    if let Some((p, narrow)) = narrow_decimals(steps, &schemas) {
        for schema in &mut schemas[..p] {
            let fields: Vec<Arc<arrow::datatypes::Field>> = schema
                .fields()
                .iter()
                .map(|field| match field.data_type() {
                    DataType::Decimal128(precision, scale) if narrow.contains(field.name()) => Arc::new(
                        field
                            .as_ref()
                            .clone()
                            .with_data_type(DataType::Decimal64(*precision, *scale)),
                    ),
                    _ => field.clone(),
                })
                .collect();
            *schema = Schema::new(fields);
        }
    }
    schemas.into_iter().map(Arc::new).collect()
}

/// For [`step_schemas`]: the pipeline's step and the decimal columns the steps before it
/// read as Decimal64, when those steps are a scan and string steps.
fn narrow_decimals(steps: &[Step], schemas: &[Schema]) -> Option<(usize, Vec<String>)> {
    let p = steps.iter().position(|s| matches!(s.op, Operator::Pipeline(_)))?;
    let Operator::Pipeline(Pipeline { args, exprs, .. }) = &steps[p].op else {
        unreachable!("found as a pipeline")
    };
    if p == 0 || !matches!(steps[0].op, Operator::Scan(_)) {
        return None;
    }
    // The column each step between the scan and the pipeline reads itself.
    let between = steps[1..p]
        .iter()
        .map(|step| match &step.op {
            Operator::Match(Match { column, .. }) | Operator::StringFunction(StringFunction { column, .. }) => {
                Some(column)
            }
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let input = &schemas[p - 1];
    let fold = steps
        .get(p + 1)
        .and_then(|next| fold::fold_plan(&steps[p].op, input, &schemas[p], &next.op))
        .filter(|f| !f.nullable);
    let narrow = input
        .fields()
        .iter()
        .enumerate()
        .filter(|(c, field)| {
            let name = field.name();
            let read_by_body = args.contains(name);
            let passed = exprs.iter().any(|e| matches!(e, ProjectExpr::Column(n) if n == name));
            let folded = fold
                .as_ref()
                .is_some_and(|f| f.extras.contains(c) && !f.keys.contains(c));
            matches!(field.data_type(), arrow::datatypes::DataType::Decimal128(p, _) if *p <= 18)
                && (folded || (read_by_body && !passed))
                && !between.contains(&name)
        })
        .map(|(_, field)| field.name().clone())
        .collect();
    Some((p, narrow))
}

/// Every kernel the plan's vertices call, each once.
pub(crate) fn plan_kernels(plan: &PhysicalPlan) -> Vec<KernelSpec> {
    let mut specs: Vec<KernelSpec> = Vec::new();
    for v in &plan.vertices {
        // A step's kernel reads its input's columns (a join's: left ++ right).
        let columns: Vec<Column> = v
            .inputs
            .iter()
            .flat_map(|e| plan.vertices[e.from].schema.iter().cloned())
            .collect();
        let mut input = to_arrow_schema(&columns);
        let steps: Vec<(&Operator, SchemaRef)> = match &v.op {
            Operator::Fused { steps } => steps.iter().map(|s| &s.op).zip(step_schemas(steps)).collect(),
            op => vec![(op, Arc::new(to_arrow_schema(&v.schema)))],
        };
        for (k, (op, output)) in steps.iter().enumerate() {
            let output = output.as_ref().clone();
            // A pipeline folded into the aggregate after it gets the fold's kernels, and
            // its plain one only if a batch can take the unfolded way (see fold.rs).
            let fold = steps
                .get(k + 1)
                .and_then(|(next, _)| fold::fold_plan(op, &input, &output, next));
            let plain = match &fold {
                Some(f) if !f.nullable => None,
                _ => op_kernel(op, &input),
            };
            let folded = fold
                .map(|f| [Some(f.spec), f.predicate])
                .into_iter()
                .flatten()
                .flatten();
            for spec in plain.into_iter().chain(folded) {
                if !specs.contains(&spec) {
                    specs.push(spec);
                }
            }
            input = output;
        }
    }
    specs
}

/// Every operator that calls a body against the body itself, before any task runs: the
/// columns passed (count and scalar types), the results it reads (index and type), what a
/// filter or kept-rows result is (a boolean), a training step's shape. A task calls
/// kernels with raw buffers laid out by these, so a plan whose operator and body
/// disagree must stop here.
/// Each step of `v` and the schema it makes.
fn steps(v: &Vertex) -> Vec<(&Operator, &[Column])> {
    match &v.op {
        Operator::Fused { steps } => steps.iter().map(|s| (&s.op, &s.schema[..])).collect(),
        op => vec![(op, &v.schema[..])],
    }
}

/// Every values operator's texts are values of its columns' types.
pub(crate) fn check_values(plan: &PhysicalPlan) -> Result<(), String> {
    for v in &plan.vertices {
        for (op, output) in steps(v) {
            if let Operator::Values(values) = op {
                crate::sets::values_batch(&values.rows, &Arc::new(to_arrow_schema(output)))
                    .map_err(|m| format!("vertex #{} (values): {m}", v.id))?;
            }
        }
    }
    Ok(())
}

pub(crate) fn check_bodies(plan: &PhysicalPlan, signatures: &HashMap<String, Signature>) -> Result<(), String> {
    for v in &plan.vertices {
        let inputs: Vec<Column> = v
            .inputs
            .iter()
            .flat_map(|e| plan.vertices[e.from].schema.iter().cloned())
            .collect();
        let mut input: Vec<Column> = inputs;
        for (op, output) in steps(v) {
            if let Some(body) = op.body() {
                let signature = signatures
                    .get(body)
                    .ok_or_else(|| format!("vertex #{}: no body @{body}", v.id))?;
                check_body(op, &input, output, signature)
                    .map_err(|m| format!("vertex #{} ({}) and body @{body}: {m}", v.id, op.name()))?;
            }
            input = output.to_vec();
        }
    }
    Ok(())
}

fn check_body(op: &Operator, input: &[Column], output: &[Column], sig: &Signature) -> Result<(), String> {
    let boolean = |n: usize| sig.results.get(n).map(String::as_str) == Some("i1");
    // Row columns first; a training step's state after them.
    let args = op.body_args();
    let validity = validity_args(op);
    let state = match op {
        Operator::Iterate { iterate, .. } => iterate.training.state_len(),
        _ => validity.len(),
    };
    if sig.params.len() != args.len() + state {
        return Err(format!(
            "it takes {} parameters; {} are passed",
            sig.params.len(),
            args.len() + state
        ));
    }
    // A join's filter reads the joined row, which `input` is (left ++ right).
    for (a, param) in args.iter().zip(&sig.params) {
        let column = input
            .iter()
            .find(|c| &c.name == a)
            .ok_or_else(|| format!("no input column '{a}'"))?;
        if column.ty.body_scalar() != Some(param.as_str()) {
            return Err(format!("column '{a}' ({}) is passed as a {param}", column.ty));
        }
    }
    if !validity.is_empty()
        && (sig.params[args.len()..].iter().any(|p| p != "i1") || validity.iter().any(|&a| a >= args.len()))
    {
        return Err("it takes its args' validity as i1 parameters after them".into());
    }
    match op {
        Operator::HashJoin { join, .. }
            if sig.results.len() != 1 + usize::from(join.filter_fault.is_some())
                || !(0..sig.results.len()).all(boolean) =>
        {
            Err("a join's condition returns one boolean (i1), and one more where it can fail".into())
        }
        Operator::Filter(_) if sig.results.len() != 1 || !boolean(0) => {
            Err("a predicate returns one boolean (i1)".into())
        }
        Operator::Map(Map { exprs, .. }) => check_results(exprs, output, sig),
        Operator::Pipeline(Pipeline {
            exprs,
            keep,
            strict,
            result_validity,
            fault,
            ..
        }) => {
            if keep.is_some_and(|k| !boolean(k)) {
                return Err("the result it keeps rows by is not a boolean".into());
            }
            if fault.as_ref().is_some_and(|f| !boolean(f.result)) {
                return Err("the result it fails by is not a boolean".into());
            }
            if result_validity
                .iter()
                .any(|&(r, v)| r >= sig.results.len() || !boolean(v))
            {
                return Err("a result's validity is not a boolean result".into());
            }
            if strict.len() != sig.results.len() {
                return Err(format!(
                    "'strict' has {} lists for {} results",
                    strict.len(),
                    sig.results.len()
                ));
            }
            check_results(exprs, output, sig)
        }
        Operator::Iterate { iterate, .. } => {
            let t = &iterate.training;
            let f64s = |types: &[String]| types.iter().all(|t| t == "f64");
            if sig.results.len() != t.sums() || !f64s(&sig.results) || !f64s(&sig.params[args.len()..]) {
                return Err(format!(
                    "a {} step takes f64 state and returns {} f64 sums",
                    t.model.name(),
                    t.sums()
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The body results a map or pipeline outputs exist and have the output columns' types.
fn check_results(exprs: &[ProjectExpr], output: &[Column], sig: &Signature) -> Result<(), String> {
    for (e, out) in exprs.iter().zip(output) {
        if let ProjectExpr::Body(n) = e {
            let result = sig
                .results
                .get(*n)
                .ok_or_else(|| format!("column '{}' is result {n} of {}", out.name, sig.results.len()))?;
            if out.ty.body_scalar() != Some(result.as_str()) {
                return Err(format!("column '{}' ({}) is result {n}, a {result}", out.name, out.ty));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use skadi_common::{Aggregate, AggregateCall, AggregateFunction, AggregateMode, Scan, types::ColumnType};

    fn column(name: &str, ty: ColumnType, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty,
            nullable,
        }
    }

    /// A scan of decimals `a`, `b`, `c` and `k` (`nullable` says whether `c` may be NULL),
    /// a pipeline whose body reads `a` and `b` and which passes `b`, `c` and `k` on, and
    /// a partial sum of `c` grouped by `k`: which scan columns are read as Decimal64.
    fn narrowed(nullable: bool) -> Vec<String> {
        let d = ColumnType::Decimal(15, 2);
        let scanned = vec![
            column("a", d, false),
            column("b", d, false),
            column("c", d, nullable),
            column("k", d, false),
        ];
        let piped = vec![
            column("x", ColumnType::Float64, false),
            column("b", d, false),
            column("c", d, nullable),
            column("k", d, false),
        ];
        let steps = [
            Step {
                op: Operator::Scan(Scan {
                    table: "t".into(),
                    format: "parquet".into(),
                    columns: vec!["a".into(), "b".into(), "c".into(), "k".into()],
                    shards: vec![],
                }),
                schema: scanned,
                location: None,
            },
            Step {
                op: Operator::Pipeline(Pipeline {
                    body: "f".into(),
                    args: vec!["a".into(), "b".into()],
                    exprs: vec![
                        ProjectExpr::Body(0),
                        ProjectExpr::Column("b".into()),
                        ProjectExpr::Column("c".into()),
                        ProjectExpr::Column("k".into()),
                    ],
                    keep: None,
                    strict: vec![vec![0, 1]],
                    validity: vec![],
                    result_validity: vec![],
                    fault: None,
                }),
                schema: piped,
                location: None,
            },
            Step {
                op: Operator::Aggregate {
                    mode: AggregateMode::Partial,
                    aggregate: Aggregate {
                        keys: vec!["k".into()],
                        aggregates: vec![AggregateCall {
                            function: AggregateFunction::Sum,
                            input: Some("c".into()),
                        }],
                    },
                },
                schema: vec![column("k", d, false), column("__sum", ColumnType::Float64, true)],
                location: None,
            },
        ];
        let schemas = step_schemas(&steps);
        schemas[0]
            .fields()
            .iter()
            .filter(|f| matches!(f.data_type(), arrow::datatypes::DataType::Decimal64(15, 2)))
            .map(|f| f.name().clone())
            .collect()
    }

    #[test]
    fn a_fused_scan_narrows_the_decimals_only_compiled_code_reads() {
        // `a`: only the body reads it. `b`: the body reads it, but it is passed on as a
        // column. `c`: passed on, and summed by the fold, which sees no NULL. `k`: a key.
        assert_eq!(narrowed(false), ["a", "c"]);
        // A NULL may send a batch the unfolded way, where the aggregate reads `c` itself.
        assert_eq!(narrowed(true), ["a"]);
    }

    #[test]
    fn string_matches_between_the_scan_and_the_pipeline_pass_narrow_decimals_on() {
        let d = ColumnType::Decimal(15, 2);
        let scanned = vec![column("s", ColumnType::Utf8, false), column("a", d, false)];
        let mut matched = scanned.clone();
        matched.push(column("m", ColumnType::Bool, false));
        let steps = [
            Step {
                op: Operator::Scan(Scan {
                    table: "t".into(),
                    format: "parquet".into(),
                    columns: vec!["s".into(), "a".into()],
                    shards: vec![],
                }),
                schema: scanned,
                location: None,
            },
            Step {
                op: Operator::Match(Match {
                    column: "s".into(),
                    match_kind: skadi_common::MatchKind::Eq,
                    patterns: vec!["x".into()],
                }),
                schema: matched,
                location: None,
            },
            Step {
                op: Operator::Pipeline(Pipeline {
                    body: "f".into(),
                    args: vec!["m".into(), "a".into()],
                    exprs: vec![ProjectExpr::Body(1)],
                    keep: Some(0),
                    strict: vec![vec![0], vec![1]],
                    validity: vec![],
                    result_validity: vec![],
                    fault: None,
                }),
                schema: vec![column("x", ColumnType::Float64, false)],
                location: None,
            },
        ];
        let schemas = step_schemas(&steps);
        for schema in &schemas[..2] {
            let a = schema.field_with_name("a").unwrap();
            assert_eq!(a.data_type(), &arrow::datatypes::DataType::Decimal64(15, 2));
        }
    }
}
