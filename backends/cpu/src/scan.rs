//! The scan operator: one shard's file slices, read column-projected, renamed to the
//! plan's column names and checked against the plan's types.

use arrow::{
    array::ArrayRef,
    compute::cast,
    datatypes::{Schema, SchemaRef},
    record_batch::RecordBatch,
};
use parquet::arrow::{ProjectionMask, arrow_reader::ParquetRecordBatchReaderBuilder};
use skadi_common::{Column, FileSlice};
use std::{fs::File, sync::Arc};

pub(crate) const BATCH_ROWS: usize = 8192;

type Batches = Box<dyn Iterator<Item = Result<RecordBatch, String>> + Send>;

/// Reads `columns` (file column names) of `slices`; the batches have `schema`'s names.
pub(crate) fn scan(
    format: &str,
    slices: &[FileSlice],
    columns: &[String],
    schema: &[Column],
) -> Result<Batches, String> {
    let out_schema: SchemaRef = Arc::new(skadi_common::types::to_arrow_schema(schema));
    let mut readers: Vec<Batches> = Vec::new();
    for slice in slices {
        let path = slice.path.display().to_string();
        let file = File::open(&slice.path).map_err(|e| format!("{path}: {e}"))?;
        let batches: Batches = match format {
            "parquet" => {
                let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| format!("{path}: {e}"))?;
                let indices = positions(builder.schema(), columns, &path)?;
                let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
                let mut builder = builder.with_projection(mask).with_batch_size(BATCH_ROWS);
                if let Some(rgs) = &slice.row_groups {
                    builder = builder.with_row_groups(rgs.clone());
                }
                let reader = builder.build().map_err(|e| format!("{path}: {e}"))?;
                let p = path.clone();
                Box::new(reader.map(move |b| b.map_err(|e| format!("{p}: {e}"))))
            }
            "csv" => {
                let (inferred, _) = arrow_csv::reader::Format::default()
                    .with_header(true)
                    .infer_schema(&file, Some(1000))
                    .map_err(|e| format!("{path}: {e}"))?;
                let indices = positions(&inferred, columns, &path)?;
                let file = File::open(&slice.path).map_err(|e| format!("{path}: {e}"))?;
                let reader = arrow_csv::ReaderBuilder::new(Arc::new(inferred))
                    .with_header(true)
                    .with_projection(indices)
                    .with_batch_size(BATCH_ROWS)
                    .build(file)
                    .map_err(|e| format!("{path}: {e}"))?;
                let p = path.clone();
                Box::new(reader.map(move |b| b.map_err(|e| format!("{p}: {e}"))))
            }
            other => return Err(format!("unknown file format '{other}'")),
        };
        let columns = columns.to_vec();
        let out = out_schema.clone();
        readers.push(Box::new(
            batches.map(move |b| b.and_then(|b| conform(&b, &columns, &out, &path))),
        ));
    }
    Ok(Box::new(readers.into_iter().flatten()))
}

fn positions(schema: &Schema, columns: &[String], path: &str) -> Result<Vec<usize>, String> {
    columns
        .iter()
        .map(|c| {
            schema
                .index_of(c)
                .map_err(|_| format!("{path}: the file has no column '{c}'"))
        })
        .collect()
}

/// Picks `columns` of a file batch in plan order and gives them the plan's names and types.
fn conform(batch: &RecordBatch, columns: &[String], out: &SchemaRef, path: &str) -> Result<RecordBatch, String> {
    let schema = batch.schema();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for (c, field) in columns.iter().zip(out.fields()) {
        let i = schema
            .index_of(c)
            .map_err(|_| format!("{path}: the file has no column '{c}'"))?;
        let a = batch.column(i);
        if a.data_type() == field.data_type() {
            arrays.push(a.clone());
        } else {
            let cast = cast(a, field.data_type()).map_err(|e| {
                format!(
                    "{path}: column '{c}' is {} but the plan reads {}: {e}",
                    a.data_type(),
                    field.data_type()
                )
            })?;
            arrays.push(cast);
        }
    }
    RecordBatch::try_new(out.clone(), arrays).map_err(|e| format!("{path}: {e}"))
}
