//! TPC-H: the tables as Parquet (tpchgen, the spec's generator in Rust), and the 22
//! queries.
//! Large tables can be split into several files, each a table directory's part; every
//! file is written under a temporary name and renamed into place when complete.

use crate::Error;
use arrow::{error::ArrowError, record_batch::RecordBatch};
use parquet::{arrow::ArrowWriter, file::properties::WriterProperties};
use std::{fs, path::Path};
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator, PartSuppGenerator,
    RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow, RegionArrow, SupplierArrow,
};

/// The eight TPC-H tables, largest first.
pub const TABLES: [&str; 8] = [
    "lineitem", "orders", "partsupp", "part", "customer", "supplier", "nation", "region",
];

/// Tables that `--files N` splits into N files.
const SPLIT_TABLES: [&str; 5] = ["lineitem", "orders", "partsupp", "part", "customer"];

/// Rows per Parquet row group: the unit of scan parallelism.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

pub(crate) type Batches = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>>>;

fn batches(table: &str, scale: f64, part: i32, parts: i32) -> Batches {
    match table {
        "lineitem" => Box::new(LineItemArrow::new(LineItemGenerator::new(scale, part, parts))),
        "orders" => Box::new(OrderArrow::new(OrderGenerator::new(scale, part, parts))),
        "partsupp" => Box::new(PartSuppArrow::new(PartSuppGenerator::new(scale, part, parts))),
        "part" => Box::new(PartArrow::new(PartGenerator::new(scale, part, parts))),
        "customer" => Box::new(CustomerArrow::new(CustomerGenerator::new(scale, part, parts))),
        "supplier" => Box::new(SupplierArrow::new(SupplierGenerator::new(scale, part, parts))),
        "nation" => Box::new(NationArrow::new(NationGenerator::new(scale, part, parts))),
        "region" => Box::new(RegionArrow::new(RegionGenerator::new(scale, part, parts))),
        other => unreachable!("{other} is not a TPC-H table"),
    }
}

pub(crate) fn write_parquet(path: &Path, batches: Batches) -> Result<u64, Error> {
    let tmp = path.with_extension("parquet.partial");
    let file = fs::File::create(&tmp).map_err(Error::io(&tmp))?;
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut writer: Option<ArrowWriter<fs::File>> = None;
    let mut rows = 0u64;
    let mut file = Some(file);
    for b in batches {
        let b = b.map_err(|e| Error::Other(format!("generating {}: {e}", path.display())))?;
        if writer.is_none() {
            let f = file.take().expect("the file is taken once");
            writer = Some(
                ArrowWriter::try_new(f, b.schema(), Some(props.clone())).map_err(|e| Error::Other(e.to_string()))?,
            );
        }
        rows += b.num_rows() as u64;
        writer
            .as_mut()
            .expect("created above")
            .write(&b)
            .map_err(|e| Error::Other(e.to_string()))?;
    }
    let writer = writer.ok_or_else(|| Error::Other(format!("{}: the generator produced no rows", path.display())))?;
    writer.close().map_err(|e| Error::Other(e.to_string()))?;
    fs::rename(&tmp, path).map_err(Error::io(path))?;
    Ok(rows)
}

/// Writes every table at scale factor `scale` into `out`; `files` splits the large tables.
/// `on_table(name, rows)` is called as each table completes.
pub fn generate(out: &Path, scale: f64, files: usize, mut on_table: impl FnMut(&str, u64)) -> Result<(), Error> {
    if !scale.is_finite() || scale <= 0.0 {
        return Err(Error::Other(format!("--scale must be positive, got {scale}")));
    }
    fs::create_dir_all(out).map_err(Error::io(out))?;
    let files = files.max(1);
    for table in TABLES {
        let split = files > 1 && SPLIT_TABLES.contains(&table);
        let single = out.join(format!("{table}.parquet"));
        let dir = out.join(table);
        // Replace whatever layout an earlier run left, so the catalog sees one table.
        if single.exists() {
            fs::remove_file(&single).map_err(Error::io(&single))?;
        }
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(Error::io(&dir))?;
        }
        let mut rows = 0;
        if split {
            fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
            for part in 1..=files {
                let path = dir.join(format!("part-{part:03}.parquet"));
                rows += write_parquet(&path, batches(table, scale, part as i32, files as i32))?;
            }
        } else {
            rows = write_parquet(&single, batches(table, scale, 1, 1))?;
        }
        on_table(table, rows);
    }
    Ok(())
}

/// The 22 TPC-H queries, embedded so the binary works from any directory.
pub const TPCH_QUERIES: [(&str, &str); 22] = [
    ("q1", include_str!("../../queries/tpch/q1.sql")),
    ("q2", include_str!("../../queries/tpch/q2.sql")),
    ("q3", include_str!("../../queries/tpch/q3.sql")),
    ("q4", include_str!("../../queries/tpch/q4.sql")),
    ("q5", include_str!("../../queries/tpch/q5.sql")),
    ("q6", include_str!("../../queries/tpch/q6.sql")),
    ("q7", include_str!("../../queries/tpch/q7.sql")),
    ("q8", include_str!("../../queries/tpch/q8.sql")),
    ("q9", include_str!("../../queries/tpch/q9.sql")),
    ("q10", include_str!("../../queries/tpch/q10.sql")),
    ("q11", include_str!("../../queries/tpch/q11.sql")),
    ("q12", include_str!("../../queries/tpch/q12.sql")),
    ("q13", include_str!("../../queries/tpch/q13.sql")),
    ("q14", include_str!("../../queries/tpch/q14.sql")),
    ("q15", include_str!("../../queries/tpch/q15.sql")),
    ("q16", include_str!("../../queries/tpch/q16.sql")),
    ("q17", include_str!("../../queries/tpch/q17.sql")),
    ("q18", include_str!("../../queries/tpch/q18.sql")),
    ("q19", include_str!("../../queries/tpch/q19.sql")),
    ("q20", include_str!("../../queries/tpch/q20.sql")),
    ("q21", include_str!("../../queries/tpch/q21.sql")),
    ("q22", include_str!("../../queries/tpch/q22.sql")),
];
