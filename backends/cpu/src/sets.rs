//! Set operations: a union's stream runs its inputs one after another, each batch
//! relabelled with the union's column names and nullability.

use crate::stage::{Stream, batch};
use arrow::datatypes::SchemaRef;
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
