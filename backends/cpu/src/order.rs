//! Operators over whole inputs or row counts: sort, limit, and the sink's renaming.

use arrow::{
    compute::{SortColumn, SortOptions, concat_batches, lexsort_to_indices, take_record_batch},
    datatypes::{Field, Schema, SchemaRef},
    record_batch::RecordBatch,
};
use skadi_common::SortKey;
use std::sync::Arc;

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
pub(crate) fn sink_schema(input: &SchemaRef, names: &[String]) -> SchemaRef {
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
}
