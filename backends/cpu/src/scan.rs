//! The scan operator: one shard's file slices, read column-projected, renamed to the
//! plan's column names and checked against the plan's types. Parquet and CSV files hold
//! tables; a text file is a table of its lines ([`skadi_common::TEXT_COLUMNS`]).

use crate::stage::Stream;
use arrow::{
    array::{ArrayRef, Int64Array, StringArray, StringBuilder},
    compute::{CastOptions, cast_with_options},
    datatypes::{DataType, Field, Schema, SchemaRef},
    record_batch::{RecordBatch, RecordBatchOptions},
};
use parquet::arrow::{
    ProjectionMask,
    arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder},
};
use skadi_common::{FileSlice, Scan};
use skadi_runtime::RuntimeError;
use std::{
    fs::File,
    io::{BufRead, BufReader},
    path::Path,
    sync::Arc,
};

pub(crate) const BATCH_ROWS: usize = 8192;

type Batches = Box<dyn Iterator<Item = Result<RecordBatch, String>> + Send>;

/// Shard `shard` of the scan.
pub(crate) fn stream<'a>(
    scan: &'a Scan,
    shard: usize,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let slices = scan
        .shards
        .get(shard)
        .ok_or_else(|| fail(format!("has no shard {shard} (it has {})", scan.shards.len())))?;
    let batches = self::scan(&scan.format, slices, &scan.columns, out_schema).map_err(fail)?;
    Ok(Box::new(batches.map(move |b| b.map_err(fail))))
}

/// Reads `columns` (file column names) of `slices`; the batches have `out_schema`'s names
/// and types. A Decimal64 column of a Decimal128 file column is decoded as Decimal64.
fn scan(format: &str, slices: &[FileSlice], columns: &[String], out_schema: SchemaRef) -> Result<Batches, String> {
    let mut readers: Vec<Batches> = Vec::new();
    for slice in slices {
        let path = slice.path.display().to_string();
        let file = File::open(&slice.path).map_err(|e| format!("{path}: {e}"))?;
        let batches: Batches = match format {
            "parquet" => {
                let error = |e: parquet::errors::ParquetError| format!("{path}: {e}");
                let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(error)?;
                let metadata = match narrowed(metadata.schema(), columns, &out_schema) {
                    Some(hint) => ArrowReaderMetadata::try_new(
                        metadata.metadata().clone(),
                        ArrowReaderOptions::new().with_schema(hint),
                    )
                    .map_err(error)?,
                    None => metadata,
                };
                let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata);
                let indices = positions(builder.schema(), columns, &path)?;
                let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
                let mut builder = builder.with_projection(mask).with_batch_size(BATCH_ROWS);
                if let Some(rgs) = &slice.row_groups {
                    let count = builder.metadata().num_row_groups();
                    if let Some(rg) = rgs.iter().find(|&&rg| rg >= count) {
                        return Err(format!("{path}: has {count} row groups; the plan reads row group {rg}"));
                    }
                    builder = builder.with_row_groups(rgs.clone());
                }
                let reader = builder.build().map_err(|e| format!("{path}: {e}"))?;
                let p = path.clone();
                Box::new(reader.map(move |b| b.map_err(|e| format!("{p}: {e}"))))
            }
            "csv" => {
                // Every file of a table is parsed as the table's types (the plan's; the
                // catalog widened them over all the files), not as its own inference
                // would have it: a value that does not fit is an error, never a NULL.
                let (header, _) = arrow_csv::reader::Format::default()
                    .with_header(true)
                    .infer_schema(&file, Some(0))
                    .map_err(|e| format!("{path}: {e}"))?;
                let fields: Vec<Field> = header
                    .fields()
                    .iter()
                    .map(|f| {
                        let ty = match columns.iter().position(|c| c == f.name()) {
                            Some(k) => out_schema.field(k).data_type().clone(),
                            None => DataType::Utf8,
                        };
                        Field::new(f.name(), ty, true)
                    })
                    .collect();
                let typed = Schema::new(fields);
                let indices = positions(&typed, columns, &path)?;
                let file = File::open(&slice.path).map_err(|e| format!("{path}: {e}"))?;
                let reader = arrow_csv::ReaderBuilder::new(Arc::new(typed))
                    .with_header(true)
                    .with_projection(indices)
                    .with_batch_size(BATCH_ROWS)
                    .build(file)
                    .map_err(|e| format!("{path}: {e}"))?;
                let p = path.clone();
                Box::new(reader.map(move |b| b.map_err(|e| format!("{p}: {}", file_lines(&e.to_string())))))
            }
            "text" => Box::new(TextLines::open(&slice.path, columns)?),
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

/// A text file's lines in batches, with the columns asked for.
struct TextLines {
    reader: BufReader<File>,
    path: String,
    file: String,
    columns: Vec<String>,
    schema: SchemaRef,
    next_line: i64,
    done: bool,
}

impl TextLines {
    fn open(path: &Path, columns: &[String]) -> Result<TextLines, String> {
        let shown = path.display().to_string();
        let mut fields = Vec::new();
        for c in columns {
            let ty = match c.as_str() {
                "line_number" => DataType::Int64,
                "path" | "file" | "line" => DataType::Utf8,
                other => {
                    return Err(format!(
                        "{shown}: a text file has no column '{other}' (it has path, file, line, line_number)"
                    ));
                }
            };
            fields.push(Field::new(c, ty, false));
        }
        let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
        Ok(TextLines {
            reader: BufReader::with_capacity(1 << 20, file),
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: shown,
            columns: columns.to_vec(),
            schema: Arc::new(Schema::new(fields)),
            next_line: 1,
            done: false,
        })
    }

    fn read_batch(&mut self) -> Result<Option<RecordBatch>, String> {
        let mut lines = StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 64);
        let mut buf = Vec::new();
        let mut n = 0;
        while n < BATCH_ROWS {
            buf.clear();
            let read = self
                .reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| format!("{}: {e}", self.path))?;
            if read == 0 {
                self.done = true;
                break;
            }
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            lines.append_value(String::from_utf8_lossy(&buf));
            n += 1;
        }
        if n == 0 {
            return Ok(None);
        }
        let first = self.next_line;
        self.next_line += n as i64;
        let lines: ArrayRef = Arc::new(lines.finish());
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|c| -> ArrayRef {
                match c.as_str() {
                    "line" => lines.clone(),
                    "line_number" => Arc::new(Int64Array::from_iter_values(first..first + n as i64)),
                    "path" => Arc::new(StringArray::from(vec![self.path.as_str(); n])),
                    _ => Arc::new(StringArray::from(vec![self.file.as_str(); n])),
                }
            })
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(n));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map(Some)
            .map_err(|e| format!("{}: {e}", self.path))
    }
}

impl Iterator for TextLines {
    type Item = Result<RecordBatch, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.read_batch().transpose()
    }
}

/// The file's schema with the decimals the plan reads as Decimal64 so typed, if any are.
fn narrowed(file: &SchemaRef, columns: &[String], out: &Schema) -> Option<SchemaRef> {
    let narrow: Vec<&String> = columns
        .iter()
        .zip(out.fields())
        .filter(|(_, f)| matches!(f.data_type(), DataType::Decimal64(..)))
        .map(|(c, _)| c)
        .collect();
    if narrow.is_empty() {
        return None;
    }
    let fields: Vec<Field> = file
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Decimal128(p, s) if *p <= 18 && narrow.contains(&f.name()) => {
                f.as_ref().clone().with_data_type(DataType::Decimal64(*p, *s))
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Some(Arc::new(Schema::new_with_metadata(fields, file.metadata().clone())))
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

/// arrow-csv numbers the rows after the header from 1 ("at line 1501"); a person
/// counts the file's lines, the header being line 1.
fn file_lines(message: &str) -> String {
    let Some((before, after)) = message.split_once(" at line ") else {
        return message.to_string();
    };
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<u64>() {
        Ok(row) => format!("{before} at line {}{}", row + 1, &after[digits.len()..]),
        Err(_) => message.to_string(),
    }
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
            // Strict: a value the plan's type cannot hold is an error, never a NULL.
            let strict = CastOptions {
                safe: false,
                ..CastOptions::default()
            };
            let cast = cast_with_options(a, field.data_type(), &strict).map_err(|e| {
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
