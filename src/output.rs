//! Result rows as text: a table for people, CSV (a header line, then rows) and JSON lines
//! for programs.

use crate::Error;
use arrow::record_batch::RecordBatch;
use skadi_ml::{ModelInfo, model_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

/// Writes result rows to `path` in the format its extension names (`.csv`, `.json` or
/// `.jsonl` as JSON lines, `.parquet`), through a temporary file renamed into place so
/// that a failed write never leaves a complete-looking file.
pub fn write_result(path: &std::path::Path, batches: &[RecordBatch]) -> Result<(), Error> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let bytes = match ext {
        "csv" => format_batches(batches, OutputFormat::Csv)?,
        "json" | "jsonl" => format_batches(batches, OutputFormat::Json)?,
        "parquet" => {
            let schema = batches
                .first()
                .map(|b| b.schema())
                .ok_or_else(|| Error::Other("no result to write".into()))?;
            let mut out = Vec::new();
            let err = |e: parquet::errors::ParquetError| Error::Other(format!("{}: {e}", path.display()));
            let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).map_err(err)?;
            for b in batches {
                w.write(b).map_err(err)?;
            }
            w.close().map_err(err)?;
            out
        }
        other => {
            return Err(Error::Other(format!(
                "{}: cannot tell the output format from '.{other}' (use .csv, .json, .jsonl or .parquet)",
                path.display()
            )));
        }
    };
    write_file(path, &bytes)
}

/// Writes `bytes` to `path` through a temporary file renamed into place.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    std::fs::write(&tmp, bytes).map_err(Error::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(Error::io(path))
}

/// Writes a pipeline's result where its spec says: a model file (JSON) when the last
/// step trains and the path ends in `.json`, otherwise the rows as [`write_result`] does.
pub fn write_pipeline_result(
    path: &std::path::Path,
    model: Option<&ModelInfo>,
    batches: &[RecordBatch],
) -> Result<(), Error> {
    match model {
        Some(m) if path.extension().is_some_and(|e| e == "json") => {
            write_file(path, model_json(m, batches).map_err(Error::Other)?.as_bytes())
        }
        _ => write_result(path, batches),
    }
}

pub fn format_table(batches: &[RecordBatch]) -> Result<String, Error> {
    arrow::util::pretty::pretty_format_batches(batches)
        .map(|t| t.to_string())
        .map_err(|e| Error::Other(e.to_string()))
}

pub fn format_batches(batches: &[RecordBatch], format: OutputFormat) -> Result<Vec<u8>, Error> {
    let err = |e: arrow::error::ArrowError| Error::Other(e.to_string());
    Ok(match format {
        OutputFormat::Table => {
            let mut s = format_table(batches)?;
            s.push('\n');
            s.into_bytes()
        }
        OutputFormat::Csv => {
            let mut out = Vec::new();
            {
                let mut w = arrow::csv::WriterBuilder::new().with_header(true).build(&mut out);
                for b in batches {
                    w.write(b).map_err(err)?;
                }
            }
            if out.is_empty()
                && let Some(b) = batches.first()
            {
                let names: Vec<&str> = b.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
                out = format!("{}\n", names.join(",")).into_bytes();
            }
            out
        }
        OutputFormat::Json => {
            let mut w = arrow::json::LineDelimitedWriter::new(Vec::new());
            for b in batches {
                w.write(b).map_err(err)?;
            }
            w.finish().map_err(err)?;
            w.into_inner()
        }
    })
}
