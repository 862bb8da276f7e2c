//! Set operations and literal rows: a union's stream runs its inputs one after another,
//! each batch relabelled with the union's column names and nullability; values make
//! their one batch.

use crate::stage::{Stream, batch};
use arrow::{
    array::{ArrayRef, RecordBatch, StringArray},
    compute::{CastOptions, cast_with_options},
    datatypes::SchemaRef,
};
use skadi_common::Values;
use skadi_runtime::RuntimeError;

pub(crate) fn union_stream<'a>(
    inputs: Vec<(Stream<'a>, SchemaRef)>,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Stream<'a> {
    Box::new(inputs.into_iter().flat_map(|(input, _)| input).map(move |b| {
        let b = b?;
        batch(&out_schema, b.columns().to_vec(), b.num_rows()).map_err(fail)
    }))
}

/// Literal rows, all on shard 0 (any other shard has none).
pub(crate) fn values_stream<'a>(
    values: &Values,
    shard: usize,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let rows: &[Vec<Option<String>>] = if shard == 0 { &values.rows } else { &[] };
    let b = values_batch(rows, &out_schema).map_err(fail)?;
    Ok(Box::new(std::iter::once(Ok(b))))
}

/// `rows` as a batch of `schema`: each column's texts cast to its type strictly, so a
/// text that is not a value of it is an error, not a NULL. Planning checks every values
/// operator this way before any task runs.
pub(crate) fn values_batch(rows: &[Vec<Option<String>>], schema: &SchemaRef) -> Result<RecordBatch, String> {
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let texts: StringArray = rows
            .iter()
            .map(|r| {
                r.get(i)
                    .ok_or_else(|| format!("a row has no value {}", i + 1))
                    .map(|v| v.as_deref())
            })
            .collect::<Result<_, _>>()?;
        let column = cast_with_options(&texts, field.data_type(), &options)
            .map_err(|e| format!("column {}: {e}", field.name()))?;
        columns.push(column);
    }
    batch(schema, columns, rows.len())
}
