//! Result rows as text or files: a table for people (the head and tail of a long
//! result, with its row count), CSV, JSON lines and Parquet for programs — and writing
//! them so that a file cannot hurt: only a regular file (or a new path) is written, a
//! symbolic link is written through, bytes go to a uniquely named file created beside the
//! target and renamed onto it once complete, and that file is removed on an error (and,
//! through [`remove_partial_outputs`], on a signal).

use crate::Error;
use arrow::record_batch::RecordBatch;
use skadi_ml::{ModelInfo, model_json};
use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
    Parquet,
}

impl OutputFormat {
    /// The format a file's extension names (`.csv`, `.json`/`.jsonl`, `.parquet`,
    /// `.txt` for the table), or an error listing the known ones.
    pub fn for_path(path: &Path) -> Result<OutputFormat, Error> {
        Ok(match skadi_common::files::result_format(path).map_err(Error::Other)? {
            "csv" => OutputFormat::Csv,
            "json" => OutputFormat::Json,
            "parquet" => OutputFormat::Parquet,
            _ => OutputFormat::Table,
        })
    }
}

/// Writes result rows to `path` in the format its extension names (see
/// [`OutputFormat::for_path`]), as [`write_file`] writes.
pub fn write_result(path: &Path, batches: &[RecordBatch]) -> Result<(), Error> {
    write_file(path, &format_batches(batches, OutputFormat::for_path(path)?)?)
}

/// Writes a pipeline's result where its spec says: a model file (JSON) when the last
/// step trains and the path ends in `.json`, otherwise the rows as [`write_result`] does.
pub fn write_pipeline_result(path: &Path, model: Option<&ModelInfo>, batches: &[RecordBatch]) -> Result<(), Error> {
    match model {
        Some(m) if path.extension().is_some_and(|e| e == "json") => {
            write_file(path, model_json(m, batches).map_err(Error::Other)?.as_bytes())
        }
        _ => write_result(path, batches),
    }
}

/// Files being written now, removed by [`remove_partial_outputs`].
static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn partial() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PARTIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every file [`write_file`] is writing at this moment: what a program calls on
/// SIGINT, SIGTERM or SIGHUP before it exits, so no partial output is left behind.
pub fn remove_partial_outputs() {
    for path in partial().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

/// The file `path` names, following symbolic links: a regular file, or a path where none
/// is yet. A directory, device, FIFO or socket is refused (write to standard output and
/// redirect instead).
fn regular_target(path: &Path) -> Result<PathBuf, Error> {
    let mut target = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&target).map_err(Error::io(&target))?;
                target = match target.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            Ok(m) if m.is_file() => return Ok(target),
            Ok(m) => {
                let what = if m.is_dir() {
                    "a directory"
                } else {
                    "not a regular file"
                };
                return Err(Error::Other(format!(
                    "{}: is {what}; Skadi writes results only to regular files (use standard output for anything else)",
                    path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(target),
            Err(e) => return Err(Error::io(&target)(e)),
        }
    }
    Err(Error::Other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// Writes `bytes` to `path`: through a symbolic link to its target, refusing anything but
/// a regular file; the bytes go to a new, uniquely named file created exclusively in the
/// target's directory, renamed onto the target once complete (so two writers of one path
/// never mix, and a failure never leaves a complete-looking file); an existing target
/// keeps its permissions.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let target = regular_target(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(&dir)
        .map_err(Error::io(&dir))?;
    partial().push(file.path().to_path_buf());
    let written = (|| {
        file.write_all(bytes)?;
        file.as_file().sync_all()?;
        let permissions = match std::fs::metadata(&target) {
            Ok(m) => Some(m.permissions()),
            Err(_) => new_file_permissions(),
        };
        if let Some(p) = permissions {
            file.as_file().set_permissions(p)?;
        }
        Ok(())
    })();
    let temporary = file.path().to_path_buf();
    partial().retain(|p| *p != temporary);
    written.map_err(Error::io(&temporary))?;
    file.persist(&target).map_err(|e| Error::io(&target)(e.error))?;
    Ok(())
}

/// A new result file's permissions: read-write for its owner, readable by the others, as
/// a file made by `>` is under the usual umask (a temporary file is its owner's only).
#[cfg(unix)]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    None
}

/// Rows a table shows at most: the first and the last half of them.
const TABLE_ROWS: usize = 40;

/// The rows as a table for people. A result of more than 40 rows shows its first and last
/// 20, a row of `…` between them, and how many rows there are — so a large result costs
/// what 40 rows cost to print, not what all of them would.
pub fn format_table(batches: &[RecordBatch]) -> Result<String, Error> {
    let err = |e: arrow::error::ArrowError| Error::Other(e.to_string());
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows <= TABLE_ROWS {
        return arrow::util::pretty::pretty_format_batches(batches)
            .map(|t| t.to_string())
            .map_err(err);
    }
    let half = TABLE_ROWS / 2;
    let schema = batches[0].schema();
    let all = arrow::compute::concat_batches(&schema, batches).map_err(err)?;
    let shown = [all.slice(0, half), all.slice(rows - half, half)];
    let text = arrow::util::pretty::pretty_format_batches(&shown)
        .map_err(err)?
        .to_string();
    // Lines: border, header, border, rows..., border.
    let lines: Vec<&str> = text.lines().collect();
    let border = lines[0];
    let ellipsis: String = border
        .split('+')
        .map(|cell| match cell.chars().count() {
            0 => String::new(),
            width => format!("{:^width$}", "…"),
        })
        .collect::<Vec<_>>()
        .join("|");
    let mut out = Vec::with_capacity(lines.len() + 2);
    out.extend_from_slice(&lines[..3 + half]);
    out.push(&ellipsis);
    out.extend_from_slice(&lines[3 + half..]);
    Ok(format!("{}\n{rows} rows ({} shown)", out.join("\n"), 2 * half))
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
        OutputFormat::Parquet => {
            let schema = batches
                .first()
                .map(|b| b.schema())
                .ok_or_else(|| Error::Other("no result to write".into()))?;
            let mut out = Vec::new();
            let err = |e: parquet::errors::ParquetError| Error::Other(format!("Parquet: {e}"));
            let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).map_err(err)?;
            for b in batches {
                w.write(b).map_err(err)?;
            }
            w.close().map_err(err)?;
            out
        }
    })
}
