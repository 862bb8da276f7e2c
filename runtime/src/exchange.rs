//! Exchanges: splitting a task's output for a consumer edge.

use crate::RuntimeError;
use arrow::{
    array::UInt32Array,
    compute::take_record_batch,
    record_batch::RecordBatch,
    row::{RowConverter, SortField},
};
use skadi_common::Partitioning;

/// Splits `batches` into `consumers` partitions as `partitioning` says. Forward, gather
/// and broadcast edges carry one partition; hash edges one per consumer shard, by
/// [`skadi_common::HASH_SCHEME`].
pub fn partition_batches(
    batches: Vec<RecordBatch>,
    partitioning: &Partitioning,
    consumers: usize,
) -> Result<Vec<Vec<RecordBatch>>, RuntimeError> {
    let Partitioning::Hash { keys, .. } = partitioning else {
        return Ok(vec![batches]);
    };
    let mut out: Vec<Vec<RecordBatch>> = vec![Vec::new(); consumers];
    if consumers == 1 {
        out[0] = batches;
        return Ok(out);
    }
    let err = |e: arrow::error::ArrowError| RuntimeError::Exchange(e.to_string());
    let Some(first) = batches.first() else { return Ok(out) };
    let schema = first.schema();
    let indices: Vec<usize> = keys
        .iter()
        .map(|k| {
            schema
                .index_of(k)
                .map_err(|_| RuntimeError::Exchange(format!("hash key '{k}' is not a column")))
        })
        .collect::<Result<_, _>>()?;
    let fields = indices
        .iter()
        .map(|&i| SortField::new(schema.field(i).data_type().clone()))
        .collect();
    let converter = RowConverter::new(fields).map_err(err)?;
    for batch in batches {
        let columns: Vec<_> = indices.iter().map(|&i| batch.column(i).clone()).collect();
        let rows = converter.convert_columns(&columns).map_err(err)?;
        let mut picks: Vec<Vec<u32>> = vec![Vec::new(); consumers];
        for (r, row) in rows.iter().enumerate() {
            let h = xxhash_rust::xxh3::xxh3_64(row.as_ref());
            picks[(h % consumers as u64) as usize].push(r as u32);
        }
        for (p, rows) in picks.into_iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            out[p].push(take_record_batch(&batch, &UInt32Array::from(rows)).map_err(err)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    #[test]
    fn hash_partitions_keep_every_row_and_put_equal_keys_together() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let keys: Vec<String> = (0..1000).map(|i| format!("key{}", i % 37)).collect();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(keys.clone())),
                Arc::new(Int64Array::from_iter_values(0..1000)),
            ],
        )
        .unwrap();
        let p = Partitioning::Hash {
            keys: vec!["k".into()],
            scheme: skadi_common::HASH_SCHEME.into(),
        };
        let parts = partition_batches(vec![batch.clone(), batch], &p, 4).unwrap();
        let total: usize = parts.iter().flatten().map(RecordBatch::num_rows).sum();
        assert_eq!(total, 2000);
        let mut owner = std::collections::HashMap::new();
        for (i, part) in parts.iter().enumerate() {
            for b in part {
                let k = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
                for key in k.iter().flatten() {
                    assert_eq!(
                        *owner.entry(key.to_string()).or_insert(i),
                        i,
                        "key {key} in two partitions"
                    );
                }
            }
        }
        assert!(parts.iter().filter(|p| !p.is_empty()).count() > 1);
    }
}
