//! Folding a pipeline into the partial (or single-step) aggregate after it: its predicate
//! alone lists the kept rows, then one compiled loop (kernel.rs' fold form) calls the
//! pipeline's body on each of them and adds it into its group's states. The pipeline's results and kept rows are never
//! materialized, and the aggregate's per-call loops over them never run. The group keys
//! must be columns the pipeline passes through (their ids are found, in Rust, for every
//! row the pipeline reads); each call a sum, avg, min, max or count of a number the body
//! computes or the pipeline passes through. A batch with a NULL in a column the kernel
//! reads goes the unfolded way (pipeline, then aggregate), so NULLs keep SQL's meaning.

use crate::kernel::{ArgForm, Fold, FoldCall, FoldFunction, FoldValue, KernelSpec};
use arrow::datatypes::{DataType, Schema};
use skadi_common::{AggregateFunction as F, AggregateMode, Operator, ProjectExpr};

/// How a fused vertex's pipeline and aggregate run as one kernel.
pub(crate) struct FoldPlan {
    pub spec: KernelSpec,
    /// The pipeline's predicate alone, reading only the arguments it is strict in (so
    /// columns only the other results read are read for kept rows only).
    pub predicate: Option<KernelSpec>,
    /// Columns of the pipeline's input: the group keys, the extra values the kernel reads
    /// (after the body's arguments), and every column whose NULLs the kernel cannot see.
    pub keys: Vec<usize>,
    pub extras: Vec<usize>,
    pub checked: Vec<usize>,
    /// Whether a checked column may hold NULLs: only then can a batch go the unfolded
    /// way, and only then is the pipeline's plain kernel compiled.
    pub nullable: bool,
}

/// The scalar type (and decimal form) a kernel reads a column of type `dt` as.
fn scalar_of(dt: &DataType) -> Option<(String, ArgForm)> {
    if let Some(form) = crate::kernel::decimal_form(dt) {
        return Some(("f64".into(), Some(form)));
    }
    let scalar = match dt {
        DataType::Float64 => "f64",
        DataType::Float32 => "f32",
        DataType::Int64 => "i64",
        DataType::Int32 => "i32",
        DataType::Int16 => "i16",
        DataType::Int8 => "i8",
        _ => return None,
    };
    Some((scalar.into(), None))
}

/// The fold of `pipeline` (reading batches of schema `input`, producing `piped`) into
/// `aggregate`, when every key and call can be folded (see the module's doc).
pub(crate) fn fold_plan(pipeline: &Operator, input: &Schema, piped: &Schema, aggregate: &Operator) -> Option<FoldPlan> {
    let Operator::Pipeline {
        body,
        args,
        exprs,
        keep,
        strict,
        ..
    } = pipeline
    else {
        return None;
    };
    let Operator::Aggregate {
        mode: AggregateMode::Partial | AggregateMode::Single,
        keys,
        aggregates,
    } = aggregate
    else {
        return None;
    };
    // Where an aggregate's input column comes from: the body's result, or an input column.
    let source = |name: &str| -> Option<(&ProjectExpr, &DataType)> {
        let i = piped.index_of(name).ok()?;
        Some((exprs.get(i)?, piped.field(i).data_type()))
    };
    let input_column = |expr: &ProjectExpr| match expr {
        ProjectExpr::Column(c) => input.index_of(c).ok(),
        ProjectExpr::Body(_) => None,
    };
    let mut checked: Vec<usize> = args.iter().map(|a| input.index_of(a).ok()).collect::<Option<_>>()?;
    let key_columns: Vec<usize> = keys.iter().map(|k| input_column(source(k)?.0)).collect::<Option<_>>()?;
    let (mut extra, mut extras) = (Vec::new(), Vec::<usize>::new());
    let mut calls = Vec::new();
    for call in aggregates {
        let function = match call.function {
            F::Sum => FoldFunction::Sum,
            F::Avg => FoldFunction::Avg,
            F::Min => FoldFunction::Min,
            F::Max => FoldFunction::Max,
            F::Count | F::CountRows => FoldFunction::Count,
            F::Collect | F::CollectSet => return None,
        };
        let Some(name) = &call.input else {
            calls.push(FoldCall {
                function,
                float: false,
                value: None,
            });
            continue;
        };
        let (expr, dt) = source(name)?;
        // The lane the aggregate accumulates in (aggregate.rs: floats and decimals in
        // f64, integers in i64, averages always in f64).
        let float = function == FoldFunction::Avg
            || matches!(
                dt,
                DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) | DataType::Decimal64(..)
            );
        let value = match expr {
            ProjectExpr::Body(n) => {
                scalar_of(dt)?;
                FoldValue::Result(*n)
            }
            ProjectExpr::Column(_) if function == FoldFunction::Count => {
                checked.push(input_column(expr)?);
                calls.push(FoldCall {
                    function,
                    float,
                    value: None,
                });
                continue;
            }
            ProjectExpr::Column(_) => {
                let c = input_column(expr)?;
                let e = match extras.iter().position(|&x| x == c) {
                    Some(e) => e,
                    None => {
                        extra.push(scalar_of(input.field(c).data_type())?);
                        extras.push(c);
                        extras.len() - 1
                    }
                };
                FoldValue::Extra(e)
            }
        };
        calls.push(FoldCall {
            function,
            float,
            value: Some(value),
        });
    }
    checked.extend(&extras);
    let predicate = match keep {
        Some(k) => {
            let mut p = crate::kernel_spec(body, args, input, *keep);
            p.predicate = Some(strict.get(*k)?.clone());
            Some(p)
        }
        None => None,
    };
    let mut spec = crate::kernel_spec(body, args, input, *keep);
    spec.fold = Some(Fold {
        extra,
        keyed: !keys.is_empty(),
        calls,
    });
    let nullable = checked.iter().any(|&c| input.field(c).is_nullable());
    Some(FoldPlan {
        nullable,
        spec,
        predicate,
        keys: key_columns,
        extras,
        checked,
    })
}
