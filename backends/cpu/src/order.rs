//! Operators over whole inputs or row counts: sort, top-k, limit, and the sink's
//! renaming.

use crate::stage::Stream;
use arrow::{
    compute::{SortColumn, SortOptions, concat_batches, lexsort_to_indices, take_record_batch},
    datatypes::{Field, Schema, SchemaRef},
    record_batch::RecordBatch,
};
use skadi_common::{Sink, Sort, SortKey, TopK};
use skadi_runtime::RuntimeError;
use std::sync::Arc;

/// A shard's rows in the sort's order, as one batch.
pub(crate) fn sort_stream<'a>(
    sort: &Sort,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let batches: Vec<RecordBatch> = input.collect::<Result<_, _>>()?;
    Ok(Box::new(std::iter::once(
        self::sort(in_schema, &batches, &sort.keys, None).map_err(fail),
    )))
}

/// The first `fetch` rows of the shard in the keys' order, as one batch. At most
/// `fetch` rows plus a batch are held: whenever the rows held pass twice `fetch` (and a
/// batch's worth), they are cut back to the first `fetch`.
pub(crate) fn top_k_stream<'a>(
    top: &TopK,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let mut held: Vec<RecordBatch> = Vec::new();
    let mut rows = 0;
    for b in input {
        let b = b?;
        rows += b.num_rows();
        held.push(b);
        if rows > top.fetch.saturating_mul(2).saturating_add(crate::scan::BATCH_ROWS) {
            let first = self::sort(in_schema, &held, &top.keys, Some(top.fetch)).map_err(fail)?;
            rows = first.num_rows();
            held = vec![first];
        }
    }
    Ok(Box::new(std::iter::once(
        self::sort(in_schema, &held, &top.keys, Some(top.fetch)).map_err(fail),
    )))
}

/// The stream cut to the limit: it stops pulling once the limit is reached.
pub(crate) fn limit_stream<'a>(limit: &skadi_common::Limit, input: Stream<'a>) -> Stream<'a> {
    let mut limit = Limit {
        skip: limit.skip,
        fetch: limit.fetch,
    };
    Box::new(input.map_while(move |b| match b {
        Ok(b) => limit.apply(b).map(Ok),
        Err(e) => Some(Err(e)),
    }))
}

/// The result's batches under the user's column names (one empty batch if there are no
/// rows, so the result still has its schema).
pub(crate) fn sink_stream<'a>(
    sink: &Sink,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let schema = sink_schema(in_schema, &sink.names);
    let mut batches: Vec<RecordBatch> = Vec::new();
    for b in input {
        let b = b?;
        if b.num_rows() > 0 {
            batches.push(RecordBatch::try_new(schema.clone(), b.columns().to_vec()).map_err(|e| fail(e.to_string()))?);
        }
    }
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(schema));
    }
    Ok(Box::new(batches.into_iter().map(Ok)))
}

pub(crate) fn sort(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    keys: &[SortKey],
    fetch: Option<usize>,
) -> Result<RecordBatch, String> {
    let all = concat_batches(schema, batches).map_err(|e| e.to_string())?;
    if all.num_rows() == 0 {
        return Ok(all);
    }
    let columns = keys
        .iter()
        .map(|k| {
            let i = schema
                .index_of(&k.column)
                .map_err(|_| format!("sort key '{}' is not a column", k.column))?;
            Ok(SortColumn {
                values: all.column(i).clone(),
                options: Some(SortOptions {
                    descending: k.descending,
                    nulls_first: k.nulls_first,
                }),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let indices = lexsort_to_indices(&columns, fetch).map_err(|e| e.to_string())?;
    take_record_batch(&all, &indices).map_err(|e| e.to_string())
}

/// Skips `skip` rows, then keeps at most `fetch` rows of the stream.
pub(crate) struct Limit {
    pub skip: usize,
    pub fetch: Option<usize>,
}

impl Limit {
    /// The part of `batch` to keep, or `None` once the limit is reached.
    pub fn apply(&mut self, batch: RecordBatch) -> Option<RecordBatch> {
        if self.fetch == Some(0) {
            return None;
        }
        let rows = batch.num_rows();
        let skip = self.skip.min(rows);
        self.skip -= skip;
        let take = self.fetch.map_or(rows - skip, |f| f.min(rows - skip));
        if let Some(f) = &mut self.fetch {
            *f -= take;
        }
        Some(batch.slice(skip, take))
    }
}

/// The result's schema: the plan's output names over the data's types.
fn sink_schema(input: &SchemaRef, names: &[String]) -> SchemaRef {
    let fields: Vec<Field> = input
        .fields()
        .iter()
        .zip(names)
        .map(|(f, n)| Field::new(n, f.data_type().clone(), f.is_nullable()))
        .collect();
    Arc::new(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use arrow::datatypes::DataType;

    #[test]
    fn limit_spans_batches() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let batch = |a: i64, b: i64| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from_iter_values(a..b))]).unwrap()
        };
        let mut l = Limit {
            skip: 3,
            fetch: Some(4),
        };
        let got: Vec<usize> = [batch(0, 2), batch(2, 5), batch(5, 10)]
            .into_iter()
            .filter_map(|b| l.apply(b))
            .map(|b| b.num_rows())
            .collect();
        assert_eq!(got, vec![0, 2, 2]);
        assert!(l.apply(batch(0, 1)).is_none());
    }

    #[test]
    fn top_k_keeps_the_first_rows_across_many_batches() {
        use arrow::array::AsArray;
        use arrow::datatypes::Int64Type;
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
        // 12 batches of 5,000 pseudo-random values (some NULL): enough that the rows held
        // are cut back several times.
        let mut state = 7u64;
        let mut all = Vec::new();
        let batches: Vec<RecordBatch> = (0..12)
            .map(|_| {
                let values: Vec<Option<i64>> = (0..5_000)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let v = (state >> 33) as i64 % 100_000;
                        (v % 97 != 0).then_some(v)
                    })
                    .collect();
                all.extend(values.iter().flatten().copied());
                RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(values))]).unwrap()
            })
            .collect();
        let top = TopK {
            keys: vec![SortKey {
                column: "x".into(),
                descending: true,
                nulls_first: false,
            }],
            fetch: 25,
        };
        let input: Stream = Box::new(batches.into_iter().map(Ok));
        let out: Vec<RecordBatch> = top_k_stream(&top, input, &schema, RuntimeError::Backend)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let got: Vec<i64> = out[0].column(0).as_primitive::<Int64Type>().values().to_vec();
        all.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(got, all[..25]);
    }
}
