//! Result rows as text: a table for people, CSV (a header line, then rows) and JSON lines
//! for programs.

use crate::Error;
use arrow::record_batch::RecordBatch;
use skadi_pipeline::ModelInfo;

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
    write_atomically(path, &bytes)
}

/// Writes `bytes` to `path` through a temporary file renamed into place.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
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

/// A trained model's row (the result of a pipeline whose last step trains) as a model
/// file: kind, method, features, the coefficients or centroids, hyperparameters, metrics.
pub fn model_json(model: &ModelInfo, batches: &[RecordBatch]) -> Result<String, Error> {
    use arrow::array::{AsArray, Float64Array};
    use arrow::datatypes::{Float64Type, Int64Type};
    let batch = batches
        .iter()
        .find(|b| b.num_rows() == 1)
        .ok_or_else(|| Error::Other("the training produced no model row".into()))?;
    let t = &model.training;
    let n = t.state_len();
    let state: Vec<f64> = (0..n)
        .map(|i| {
            batch
                .column(i)
                .as_any()
                .downcast_ref::<Float64Array>()
                .map(|a| a.value(0))
        })
        .collect::<Option<_>>()
        .ok_or_else(|| Error::Other("a model row's state is f64".into()))?;
    let metric_i64 = |i: usize| batch.column(i).as_primitive_opt::<Int64Type>().map(|a| a.value(0));
    let loss = batch
        .column(n + 1)
        .as_primitive_opt::<Float64Type>()
        .map(|a| a.value(0));
    let mut doc = serde_json::json!({
        "name": model.name,
        "model": t.model.name(),
        "method": t.method.name(),
        "features": model.features,
        "label": model.label,
        "hyperparameters": {
            "learning_rate": (t.method == skadi_common::ml::Method::GradientDescent).then_some(t.learning_rate),
            "max_iterations": t.max_iterations,
            "tolerance": t.tolerance,
        },
        "metrics": {
            "iterations": metric_i64(n),
            "loss": loss,
            "rows": metric_i64(n + 2),
        },
    });
    if t.model == skadi_common::ml::ModelKind::Kmeans {
        let centroids: Vec<&[f64]> = state.chunks(t.features.max(1)).collect();
        doc["centroids"] = serde_json::json!(centroids);
    } else {
        doc["intercept"] = serde_json::json!(state[0]);
        let coefficients: serde_json::Map<String, serde_json::Value> = model
            .features
            .iter()
            .zip(&state[1..])
            .map(|(f, w)| (f.clone(), serde_json::json!(w)))
            .collect();
        doc["coefficients"] = serde_json::Value::Object(coefficients);
    }
    let mut text = serde_json::to_string_pretty(&doc).map_err(|e| Error::Other(e.to_string()))?;
    text.push('\n');
    Ok(text)
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
            write_atomically(path, model_json(m, batches)?.as_bytes())
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
