//! `flow.iterate` on the CPU. The argument columns are converted once to buffers of the
//! step body's parameter types (rows with a NULL in a strict column dropped). Each pass
//! splits the rows into one chunk per thread, runs the compiled step kernel (the body
//! summed over the chunk, see kernel.rs) on each, adds the chunks' sums, and hands them to
//! the model's update rule (`skadi_common::ml`) for the next state.

use crate::stage::{CpuPlan, Stream, column_indices};
use crate::{
    eval::{Buffer, argument},
    jit::Kernel,
};
use arrow::{
    array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch},
    buffer::NullBuffer,
    compute::{cast, concat, filter},
    datatypes::{DataType, Float64Type, SchemaRef},
};
use skadi_common::{Iterate, ml::Training};
use skadi_runtime::RuntimeError;
use std::sync::Arc;

/// Rows below which a pass is not worth another thread.
const MIN_ROWS_PER_THREAD: usize = 16 * 1024;

fn element_size(scalar: &str) -> usize {
    match scalar {
        "i1" | "i8" => 1,
        "i16" => 2,
        "i32" | "f32" => 4,
        _ => 8,
    }
}

/// The trained model's one row, from every batch of the shard.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stream<'a>(
    plan: &CpuPlan,
    iterate: &Iterate,
    threads: usize,
    kernel: &Kernel,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let args = column_indices(in_schema, &iterate.args).map_err(fail)?;
    let batches: Vec<RecordBatch> = input.collect::<Result<_, _>>()?;
    plan.count_call();
    let row = train(
        kernel,
        &iterate.training,
        &batches,
        &args,
        &iterate.strict,
        threads,
        &out_schema,
    )
    .map_err(fail)?;
    Ok(Box::new(std::iter::once(Ok(row))))
}

/// Trains on `batches` (their columns `args` are the step's row arguments; rows with a
/// NULL in an arg listed in `strict` are skipped) and returns the model's one row.
fn train(
    kernel: &Kernel,
    training: &Training,
    batches: &[RecordBatch],
    args: &[usize],
    strict: &[usize],
    threads: usize,
    out: &SchemaRef,
) -> Result<RecordBatch, String> {
    let params = &kernel.signature.params;
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(args.len());
    for &i in args {
        let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
        if parts.is_empty() {
            return Err("no rows to train on: the input is empty".into());
        }
        columns.push(concat(&parts).map_err(|e| e.to_string())?);
    }
    let nulls = strict.iter().fold(None, |acc: Option<NullBuffer>, &a| {
        NullBuffer::union(acc.as_ref(), columns[a].logical_nulls().as_ref())
    });
    if let Some(nulls) = nulls {
        let keep = arrow::array::BooleanArray::new(nulls.into_inner(), None);
        columns = columns
            .iter()
            .map(|c| filter(c, &keep))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
    }
    let rows = columns.first().map_or(0, |c| c.len());
    if rows == 0 {
        return Err("no rows to train on (every row was filtered out or had a NULL)".into());
    }
    let mut buffers: Vec<Buffer> = columns
        .iter()
        .zip(params)
        .map(|(c, p)| match (c.data_type(), p.as_str()) {
            // A narrow decimal's scaled integers, 8 bytes a row as the loop steps them.
            (DataType::Decimal128(..), "i64") => {
                let values = c
                    .as_primitive::<arrow::datatypes::Decimal128Type>()
                    .unary::<_, arrow::datatypes::Int64Type>(|v| v as i64);
                argument(&(Arc::new(values) as ArrayRef), p, false)
            }
            _ => argument(c, p, false),
        })
        .collect::<Result<_, _>>()?;
    let bases: Vec<usize> = buffers.iter_mut().map(|b| b.ptr() as usize).collect();
    let sizes: Vec<usize> = params[..args.len()].iter().map(|p| element_size(p)).collect();

    // k-means starts from the first rows unless told otherwise (and is then never fused,
    // so its first arguments are the features; a fused body's may be of any type).
    let take = if training.init.is_empty() {
        training.clusters.min(rows)
    } else {
        0
    };
    let first: Vec<Vec<f64>> = if take == 0 {
        Vec::new()
    } else {
        let features: Vec<ArrayRef> = columns[..training.features]
            .iter()
            .map(|c| cast(&c.slice(0, take), &DataType::Float64))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        (0..take)
            .map(|r| {
                features
                    .iter()
                    .map(|f| f.as_primitive::<Float64Type>().value(r))
                    .collect()
            })
            .collect()
    };
    let mut state = skadi_ml::initial_state(training, &first)?;
    let chunks = threads.clamp(1, (rows / MIN_ROWS_PER_THREAD).max(1));
    let sums_len = kernel.signature.results.len();
    let pass = |state: &[f64]| -> Vec<f64> {
        let per = rows.div_ceil(chunks).max(1);
        let run = |start: usize| -> Vec<f64> {
            let len = per.min(rows - start.min(rows));
            let mut sums = vec![0.0f64; sums_len];
            let mut pointers: Vec<*mut u8> = bases
                .iter()
                .zip(&sizes)
                .map(|(&b, &s)| (b + start * s) as *mut u8)
                .collect();
            pointers.push(state.as_ptr() as *mut u8);
            pointers.push(sums.as_mut_ptr() as *mut u8);
            // SAFETY: each argument buffer holds `rows` values of its parameter's type and
            // this chunk reads rows [start, start + len); the state holds the body's state
            // parameters and `sums` one f64 per result, as the kernel's signature says.
            unsafe { (kernel.function)(len as i64, pointers.as_ptr()) };
            sums
        };
        let parts: Vec<Vec<f64>> = if chunks == 1 {
            vec![run(0)]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..chunks).map(|c| s.spawn(move || run(c * per))).collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a training pass does not panic"))
                    .collect()
            })
        };
        let mut total = vec![0.0; sums_len];
        for p in parts {
            for (t, v) in total.iter_mut().zip(p) {
                *t += v;
            }
        }
        total
    };
    let mut loss = f64::NAN;
    let mut iterations = 0;
    // Rows trained on: the weights' sum (a filter fused into the step zeroes some).
    let mut used = 0.0;
    while iterations < training.max_iterations.max(1) {
        let sums = pass(&state);
        used = sums[0];
        let update = skadi_ml::update(training, &state, &sums)?;
        iterations += 1;
        loss = update.loss;
        state = update.state;
        if update.done {
            break;
        }
    }
    let mut values: Vec<ArrayRef> = state
        .iter()
        .map(|&v| Arc::new(Float64Array::from(vec![v])) as ArrayRef)
        .collect();
    values.push(Arc::new(Int64Array::from(vec![iterations as i64])));
    values.push(Arc::new(Float64Array::from(vec![loss])));
    values.push(Arc::new(Int64Array::from(vec![used.round() as i64])));
    RecordBatch::try_new(out.clone(), values).map_err(|e| e.to_string())
}
