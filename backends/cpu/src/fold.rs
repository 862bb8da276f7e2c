//! Folding a pipeline into the partial (or single-step) aggregate after it: its predicate
//! alone lists the kept rows, then one compiled loop (kernel.rs' fold form) calls the
//! pipeline's body on each of them and adds it into its group's states. The pipeline's results and kept rows are never
//! materialized, and the aggregate's per-call loops over them never run. The group keys
//! must be columns the pipeline passes through (their ids are found, in Rust, for every
//! row the pipeline reads); each call a sum, avg, min, max or count of a number the body
//! computes or the pipeline passes through. A batch with a NULL in a column the kernel
//! reads goes the unfolded way (pipeline, then aggregate), so NULLs keep SQL's meaning.

use crate::{
    aggregate::{HashAggregate, SharedState},
    eval,
    kernel::{ArgForm, Fold, FoldCall, FoldFunction, FoldLane, FoldValue, KernelSpec},
    rows::pipeline_batch,
    stage::{CpuPlan, Stream, column_indices, picks},
};
use arrow::{
    array::ArrayRef,
    datatypes::{DataType, Schema, SchemaRef},
};
use skadi_common::{
    Aggregate, AggregateFunction as F, AggregateMode, Operator, Pipeline, ProjectExpr, Step, types::to_arrow_schema,
};
use skadi_runtime::RuntimeError;
use std::sync::Arc;

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
    /// Calls whose count (and sum) the kernel does not store: another call's are theirs.
    pub shared: Vec<SharedState>,
}

/// The scalar type (and decimal form) a fold reads a column of type `dt` as: a decimal
/// as its scaled integer, an i128, which the decimal lane sums.
fn scalar_of(dt: &DataType) -> Option<(String, ArgForm)> {
    if let DataType::Decimal128(..) = dt {
        return Some(("i128".into(), crate::kernel::decimal_form(dt)));
    }
    if let Some(form) = crate::kernel::decimal_form(dt) {
        return Some(("i128".into(), Some(form)));
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
    let Operator::Pipeline(
        p @ Pipeline {
            body,
            args,
            exprs,
            keep,
            strict,
            ..
        },
    ) = pipeline
    else {
        return None;
    };
    if p.self_contained() {
        return None;
    }
    let Operator::Aggregate {
        mode: AggregateMode::Partial | AggregateMode::Single,
        aggregate: Aggregate { keys, aggregates },
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
            F::Collect
            | F::CollectSet
            | F::CountDistinct
            | F::VarSamp
            | F::VarPop
            | F::StddevSamp
            | F::StddevPop
            | F::Single
            | F::Median => {
                return None;
            }
        };
        let Some(name) = &call.input else {
            calls.push(FoldCall {
                function,
                lane: FoldLane::I64,
                value: None,
                counted: true,
                summed: true,
            });
            continue;
        };
        let (expr, dt) = source(name)?;
        // The lane the aggregate accumulates in (aggregate.rs: floats in f64, integers in
        // i64, decimals in i128; averages of non-decimals in f64). An average of decimals
        // wider than 25 digits fails on overflow, which a fold cannot: it is not folded.
        let lane = match dt {
            DataType::Decimal128(p, _) | DataType::Decimal64(p, _) if function == FoldFunction::Avg && *p > 25 => {
                return None;
            }
            DataType::Decimal128(..) | DataType::Decimal64(..) => FoldLane::I128,
            DataType::Float32 | DataType::Float64 => FoldLane::F64,
            _ if function == FoldFunction::Avg => FoldLane::F64,
            _ => FoldLane::I64,
        };
        let value = match expr {
            ProjectExpr::Body(n) => {
                scalar_of(dt)?;
                FoldValue::Result(*n)
            }
            ProjectExpr::Column(_) if function == FoldFunction::Count => {
                checked.push(input_column(expr)?);
                calls.push(FoldCall {
                    function,
                    lane,
                    value: None,
                    counted: true,
                    summed: true,
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
            lane,
            value: Some(value),
            counted: true,
            summed: true,
        });
    }
    checked.extend(&extras);
    let predicate = match keep {
        Some(k) => {
            let mut p = crate::planning::kernel_spec(body, args, input, *keep);
            p.predicate = Some(strict.get(*k)?.clone());
            Some(p)
        }
        None => None,
    };
    // Calls that would store the same state on every row share one call's instead: a
    // sum and an average of the same value in the same lane (Q1's sum(l_quantity) and
    // avg(l_quantity)) share its sum and count; and where no batch can go the unfolded
    // way, every call counts the same rows (the kept ones: no value is NULL), so sums,
    // averages and counts share the first call's count. (Minima and maxima read theirs
    // to find a group's first value.)
    let nullable = checked.iter().any(|&c| input.field(c).is_nullable());
    let mut shared = Vec::new();
    let summing = |c: &FoldCall| matches!(c.function, FoldFunction::Sum | FoldFunction::Avg) && c.value.is_some();
    for c in 1..calls.len() {
        let same = (0..c).find(|&d| {
            summing(&calls[c])
                && summing(&calls[d])
                && calls[d].summed
                && calls[d].value == calls[c].value
                && calls[d].lane == calls[c].lane
        });
        if let Some(d) = same {
            calls[c].counted = false;
            calls[c].summed = false;
            shared.push(SharedState {
                call: c,
                from: d,
                sum: true,
            });
        } else if !nullable
            && matches!(
                calls[c].function,
                FoldFunction::Sum | FoldFunction::Avg | FoldFunction::Count
            )
        {
            calls[c].counted = false;
            shared.push(SharedState {
                call: c,
                from: 0,
                sum: false,
            });
        }
    }
    let mut spec = crate::planning::kernel_spec(body, args, input, *keep);
    spec.fold = Some(Fold {
        extra,
        keyed: !keys.is_empty(),
        calls,
        // Its faults are on kept rows only (else the pipeline is self-contained), the
        // rows the fold computes.
        fault: p.fault.as_ref().map(|f| f.result),
    });
    Some(FoldPlan {
        nullable,
        shared,
        spec,
        predicate,
        keys: key_columns,
        extras,
        checked,
    })
}

/// A pipeline step and the aggregate step after it, as `plan` folds them: each batch
/// without NULLs in the columns the kernel reads goes through the folded kernel,
/// any other through the pipeline and then the aggregate.
pub(crate) fn stream<'a>(
    cpu: &'a CpuPlan,
    plan: &FoldPlan,
    pipeline: &'a Step,
    aggregate: &'a Step,
    (input, in_schema): (Stream<'a>, SchemaRef),
    piped: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let (
        Operator::Pipeline(pipeline_op),
        Operator::Aggregate {
            mode,
            aggregate: agg_op,
        },
    ) = (&pipeline.op, &aggregate.op)
    else {
        return Err(fail("folds a pipeline into an aggregate".into()));
    };
    let plain = match plan.nullable {
        true => Some(cpu.kernel(&pipeline.op, &in_schema).map_err(fail)?),
        false => None,
    };
    let folded = cpu.compiled_kernel(&plan.spec).map_err(fail)?;
    let args = column_indices(&in_schema, &pipeline_op.args).map_err(fail)?;
    let picks = picks(&in_schema, &pipeline_op.exprs).map_err(fail)?;
    let out = Arc::new(to_arrow_schema(&aggregate.schema));
    let mut agg = HashAggregate::new(*mode, agg_op, &piped, out).map_err(fail)?;
    agg.share_states(&plan.shared);
    let fold = plan.spec.fold.as_ref().expect("a fold plan's kernel folds");
    let predicate = match &plan.predicate {
        Some(spec) => Some(cpu.compiled_kernel(spec).map_err(fail)?),
        None => None,
    };
    for b in input {
        let b = b?;
        let nulls = plan.checked.iter().any(|&c| b.column(c).null_count() > 0);
        if nulls {
            let plain = plain.ok_or_else(|| fail("a NULL in a column its schema says has none".into()))?;
            let rows = pipeline_batch(cpu, pipeline_op, plain, &b, &args, &picks, &piped).map_err(fail)?;
            agg.push(&rows).map_err(fail)?;
            continue;
        }
        cpu.count_call();
        let keys: Vec<ArrayRef> = plan.keys.iter().map(|&k| b.column(k).clone()).collect();
        let rows = b.num_rows();
        let mut buffers = Vec::with_capacity(args.len() + plan.extras.len());
        for (j, &c) in args.iter().enumerate() {
            let in_place = folded.forms.get(j).copied().flatten().is_some();
            buffers.push(eval::argument(b.column(c), &folded.signature.params[j], in_place).map_err(fail)?);
        }
        for (&c, (scalar, form)) in plan.extras.iter().zip(&fold.extra) {
            buffers.push(eval::argument(b.column(c), scalar, form.is_some()).map_err(fail)?);
        }
        let mut pointers: Vec<*mut u8> = buffers.iter_mut().map(eval::Buffer::ptr).collect();
        let selected: Vec<u32> = match predicate {
            Some(predicate) => {
                let mut keep = vec![0u8; rows];
                let mut at: Vec<*mut u8> = pointers[..args.len()].to_vec();
                at.push(keep.as_mut_ptr());
                // SAFETY: the predicate kernel reads argument buffers of `rows` values of
                // their scalar types (NULL-free, checked above) and writes `rows` bytes.
                unsafe { (predicate.function)(rows as i64, at.as_ptr()) };
                eval::pack_bits(&keep).set_indices().map(|r| r as u32).collect()
            }
            None => (0..rows as u32).collect(),
        };
        let (ids, targets) = agg.fold_targets(&keys, rows, &selected).map_err(fail)?;
        pointers.push(selected.as_ptr() as *mut u8);
        pointers.push(ids.as_ptr() as *mut u8);
        pointers.extend(targets);
        let mut failed = 0u8;
        if fold.fault.is_some() {
            pointers.push(&mut failed as *mut u8);
        }
        // SAFETY: the columns are as fold_kernel_mlir reads them: each argument and extra
        // column `rows` values of its scalar type (NULL-free); the kept rows' indices,
        // each below `rows`; the ids one usize (i64) per row, found for every kept row;
        // each group array one slot per group (fold_targets grew them), untouched until
        // the call returns.
        unsafe { (folded.function)(selected.len() as i64, pointers.as_ptr()) };
        if failed != 0 {
            let what = pipeline_op.fault.as_ref().map_or("a fault", |f| f.what.as_str());
            return Err(fail(what.to_string()));
        }
    }
    Ok(Box::new(std::iter::once(agg.finish().map_err(fail))))
}
