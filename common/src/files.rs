//! The files Skadi writes results to, told apart by extension: every frontend that names
//! an output (a job's `[output]`, a pipeline step's `output`) and the writer agree here.

/// The result formats a path's extension can name, as (extension, format name).
pub const RESULT_EXTENSIONS: [(&str, &str); 5] = [
    ("csv", "csv"),
    ("json", "json"),
    ("jsonl", "json"),
    ("parquet", "parquet"),
    ("txt", "table"),
];

/// The format name (`csv`, `json`, `parquet`, `table`) of a result file at `path`, or an
/// error saying which extensions are known.
pub fn result_format(path: &std::path::Path) -> Result<&'static str, String> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    RESULT_EXTENSIONS
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            let known: Vec<String> = RESULT_EXTENSIONS.iter().map(|(e, _)| format!(".{e}")).collect();
            format!(
                "{}: cannot tell the output format from '.{ext}' (use {})",
                path.display(),
                known.join(", ")
            )
        })
}
