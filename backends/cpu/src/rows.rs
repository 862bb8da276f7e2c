//! Row-wise operators: a filter keeps rows by its compiled predicate, a project picks
//! columns, a map computes columns with its compiled body, and a pipeline (fused filters
//! and maps) does both in one kernel call per batch.

use crate::{
    eval,
    jit::Kernel,
    stage::{CpuPlan, Stream, batch, column_indices, picks},
};
use arrow::{
    array::{ArrayRef, RecordBatch},
    compute::{FilterBuilder, filter_record_batch},
    datatypes::{Schema, SchemaRef},
};
use skadi_common::{Filter, Map, Pipeline, Project};
use skadi_runtime::RuntimeError;

pub(crate) fn filter<'a>(
    plan: &'a CpuPlan,
    filter: &Filter,
    kernel: &'a Kernel,
    input: Stream<'a>,
    in_schema: &Schema,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let args = column_indices(in_schema, &filter.args).map_err(fail)?;
    Ok(Box::new(input.map(move |b| {
        let b = b?;
        plan.count_call();
        let keep = eval::selection(kernel, &b, &args).map_err(fail)?;
        filter_record_batch(&b, &keep).map_err(|e| fail(e.to_string()))
    })))
}

pub(crate) fn project<'a>(
    project: &Project,
    input: Stream<'a>,
    in_schema: &Schema,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let columns = column_indices(in_schema, &project.columns).map_err(fail)?;
    Ok(Box::new(input.map(move |b| {
        let b = b?;
        let picked = columns.iter().map(|&c| b.column(c).clone()).collect();
        batch(&out_schema, picked, b.num_rows()).map_err(fail)
    })))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn map<'a>(
    plan: &'a CpuPlan,
    map: &Map,
    kernel: &'a Kernel,
    input: Stream<'a>,
    in_schema: &Schema,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let args = column_indices(in_schema, &map.args).map_err(fail)?;
    let picks = picks(in_schema, &map.exprs).map_err(fail)?;
    Ok(Box::new(input.map(move |b| {
        let b = b?;
        plan.count_call();
        let computed = eval::evaluate(kernel, &b, &args, eval::Nulls::default())
            .map_err(fail)?
            .0;
        let columns = pick(&picks, &b, &computed, &out_schema).map_err(fail)?;
        batch(&out_schema, columns, b.num_rows()).map_err(fail)
    })))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn pipeline<'a>(
    plan: &'a CpuPlan,
    pipeline: &'a Pipeline,
    kernel: &'a Kernel,
    input: Stream<'a>,
    in_schema: &Schema,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let args = column_indices(in_schema, &pipeline.args).map_err(fail)?;
    let picks = picks(in_schema, &pipeline.exprs).map_err(fail)?;
    Ok(Box::new(input.map(move |b| {
        pipeline_batch(plan, pipeline, kernel, &b?, &args, &picks, &out_schema).map_err(fail)
    })))
}

/// The output columns: each an input column (`Ok`) or a computed result (`Err`), the
/// latter as the output's type where a body's scalar stands for another (a date is an
/// i32 in bodies, a decimal its scaled integer).
fn pick(
    picks: &[Result<usize, usize>],
    b: &RecordBatch,
    computed: &[ArrayRef],
    out_schema: &Schema,
) -> Result<Vec<ArrayRef>, String> {
    picks
        .iter()
        .zip(out_schema.fields())
        .map(|(p, field)| match p {
            Ok(i) => Ok(b.column(*i).clone()),
            Err(n) => eval::as_column_type(&computed[*n], field.data_type()),
        })
        .collect()
}

/// A pipeline's output for one batch: its body's results and passed-through columns
/// (`picks`: an input column, or a result), only the rows its predicate keeps.
pub(crate) fn pipeline_batch(
    plan: &CpuPlan,
    pipeline: &Pipeline,
    kernel: &Kernel,
    b: &RecordBatch,
    args: &[usize],
    picks: &[Result<usize, usize>],
    out_schema: &SchemaRef,
) -> Result<RecordBatch, String> {
    plan.count_call();
    let nulls = eval::Nulls {
        strict: Some(&pipeline.strict),
        validity: &pipeline.validity,
        result_validity: &pipeline.result_validity,
    };
    let (computed, _) = eval::evaluate(kernel, b, args, nulls)?;
    if let Some(fault) = &pipeline.fault
        && eval::keep_mask(&computed[fault.result]).true_count() > 0
    {
        return Err(fault.what.clone());
    }
    let columns = pick(picks, b, &computed, out_schema)?;
    let (columns, rows) = match pipeline.keep {
        None => (columns, b.num_rows()),
        Some(k) => {
            let mask = eval::keep_mask(&computed[k]);
            let predicate = FilterBuilder::new(&mask).optimize().build();
            let columns = columns
                .iter()
                .map(|c| predicate.filter(c))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            (columns, predicate.count())
        }
    };
    batch(out_schema, columns, rows)
}
