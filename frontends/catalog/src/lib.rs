//! The catalog: which tables a directory holds. Each `*.parquet` or `*.csv` file in the
//! directory, or sub-directory of such files, is a table named after the file or
//! directory (its stem up to the first dot). The catalog reads schemas (Parquet footers,
//! CSV headers with type inference) and lists files; it never reads data rows beyond CSV
//! inference, and knows nothing of SQL or plans.

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::{
    collections::BTreeMap,
    fs::File,
    path::{Path, PathBuf},
    sync::Arc,
};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{path}: cannot read catalog directory: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("{path}: cannot read schema: {message}")]
    Schema { path: String, message: String },
    #[error("{path}: table directory mixes formats ({first} and {second})")]
    MixedFormats {
        path: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("table '{table}': {first} and {second} do not share one schema: {message}")]
    Mismatch {
        table: String,
        first: String,
        second: String,
        message: String,
    },
    #[error("tables '{name}' from {first} and {second} have the same name")]
    Duplicate {
        name: String,
        first: String,
        second: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Parquet,
    Csv,
}

impl FileFormat {
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Parquet => "parquet",
            FileFormat::Csv => "csv",
        }
    }

    fn of(path: &Path) -> Option<FileFormat> {
        match path.extension()?.to_str()? {
            "parquet" => Some(FileFormat::Parquet),
            "csv" => Some(FileFormat::Csv),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    /// The catalog entry the table came from: its file, or its directory.
    pub path: PathBuf,
    pub format: FileFormat,
    /// The table's files, sorted by path.
    pub files: Vec<PathBuf>,
    pub schema: SchemaRef,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tables: BTreeMap<String, Table>,
}

/// Rows read to infer a CSV file's column types.
const CSV_INFERENCE_ROWS: usize = 1000;

impl Catalog {
    /// Scans `dir` for tables.
    pub fn open(dir: &Path) -> Result<Catalog, CatalogError> {
        let dir_err = |source| CatalogError::Directory {
            path: dir.display().to_string(),
            source,
        };
        // Plans carry file paths to workers that may run elsewhere: make them absolute.
        let absolute = dir.canonicalize().map_err(dir_err)?;
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&absolute)
            .map_err(|source| CatalogError::Directory {
                path: dir.display().to_string(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        let mut catalog = Catalog::default();
        for path in entries {
            let (format, files) = if path.is_dir() {
                match table_files(&path)? {
                    Some(found) => found,
                    None => continue,
                }
            } else if let Some(format) = FileFormat::of(&path) {
                (format, vec![path.clone()])
            } else {
                continue;
            };
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let name = file_name.split('.').next().unwrap_or(file_name).to_string();
            if name.is_empty() {
                continue;
            }
            let schema = table_schema(&name, format, &files)?;
            if let Some(prev) = catalog.tables.get(&name) {
                return Err(CatalogError::Duplicate {
                    name,
                    first: prev.files[0].display().to_string(),
                    second: path.display().to_string(),
                });
            }
            catalog.tables.insert(
                name.clone(),
                Table {
                    name,
                    path: path.clone(),
                    format,
                    files,
                    schema,
                },
            );
        }
        Ok(catalog)
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.values()
    }
}

/// The files of a table directory, or `None` if it holds no table files.
fn table_files(dir: &Path) -> Result<Option<(FileFormat, Vec<PathBuf>)>, CatalogError> {
    let read = std::fs::read_dir(dir).map_err(|source| CatalogError::Directory {
        path: dir.display().to_string(),
        source,
    })?;
    let mut files: Vec<(FileFormat, PathBuf)> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter_map(|p| FileFormat::of(&p).map(|f| (f, p)))
        .collect();
    files.sort_by(|a, b| a.1.cmp(&b.1));
    let Some(&(first, _)) = files.first() else {
        return Ok(None);
    };
    if let Some(&(other, _)) = files.iter().find(|(f, _)| *f != first) {
        return Err(CatalogError::MixedFormats {
            path: dir.display().to_string(),
            first: first.name(),
            second: other.name(),
        });
    }
    Ok(Some((first, files.into_iter().map(|(_, p)| p).collect())))
}

/// One schema for a table of several files: Parquet files must agree; CSV files, whose
/// types are inferred per file, must have the same columns, and a column's type is widened
/// to hold every file's values (integers and floats as floats, anything else mixed as
/// strings) — so no file's values are read as another's type.
fn table_schema(table: &str, format: FileFormat, files: &[PathBuf]) -> Result<SchemaRef, CatalogError> {
    let first = &files[0];
    let mut schema = read_schema(format, first)?;
    for file in &files[1..] {
        let next = read_schema(format, file)?;
        let mismatch = |message: String| CatalogError::Mismatch {
            table: table.to_string(),
            first: first.display().to_string(),
            second: file.display().to_string(),
            message,
        };
        let names = |s: &SchemaRef| s.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>();
        if names(&schema) != names(&next) {
            return Err(mismatch(format!(
                "columns ({}) and ({})",
                names(&schema).join(", "),
                names(&next).join(", ")
            )));
        }
        let mut fields = Vec::with_capacity(schema.fields().len());
        for (a, b) in schema.fields().iter().zip(next.fields()) {
            let ty = match format {
                _ if a.data_type() == b.data_type() => a.data_type().clone(),
                FileFormat::Csv => widen(a.data_type(), b.data_type()),
                FileFormat::Parquet => {
                    return Err(mismatch(format!(
                        "column '{}' is {} in one and {} in the other",
                        a.name(),
                        a.data_type(),
                        b.data_type()
                    )));
                }
            };
            fields.push(Field::new(a.name(), ty, a.is_nullable() || b.is_nullable()));
        }
        schema = Arc::new(Schema::new(fields));
    }
    Ok(schema)
}

/// A type that holds values of both inferred CSV types.
fn widen(a: &DataType, b: &DataType) -> DataType {
    use DataType::*;
    match (a, b) {
        (Null, t) | (t, Null) => t.clone(),
        (Int64, Float64) | (Float64, Int64) => Float64,
        _ => Utf8,
    }
}

pub fn read_schema(format: FileFormat, path: &Path) -> Result<SchemaRef, CatalogError> {
    let err = |message: String| CatalogError::Schema {
        path: path.display().to_string(),
        message,
    };
    let file = File::open(path).map_err(|e| err(e.to_string()))?;
    match format {
        FileFormat::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(e.to_string()))?;
            Ok(builder.schema().clone())
        }
        FileFormat::Csv => {
            let (schema, _) = arrow_csv::reader::Format::default()
                .with_header(true)
                .infer_schema(file, Some(CSV_INFERENCE_ROWS))
                .map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(schema))
        }
    }
}
