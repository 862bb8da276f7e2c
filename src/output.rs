//! Result rows as text: a table for people, CSV (a header line, then rows) and JSON lines
//! for programs.

use crate::Error;
use arrow::record_batch::RecordBatch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
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
