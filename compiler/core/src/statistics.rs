//! Input size estimates from file metadata: the unit of scan parallelism is a Parquet
//! row group (or a whole CSV file).

use parquet::{
    basic::{ConvertedType, LogicalType},
    file::{
        metadata::{ColumnChunkMetaData, RowGroupMetaData},
        reader::{FileReader, SerializedFileReader},
        statistics::Statistics,
    },
};
use std::{fs::File, path::Path};

/// One independently readable piece of a table.
#[derive(Debug, Clone)]
pub(crate) struct ScanUnit {
    pub file: String,
    /// `None` for a whole file (CSV).
    pub row_group: Option<usize>,
    /// Rows in the unit, when the metadata says (Parquet).
    pub rows: Option<u64>,
}

/// A source's pruning bound: file column, operator, value.
pub(crate) type Bound = (String, &'static str, f64);

/// A column chunk's min and max as f64, the way bodies see the values (decimals scaled).
fn min_max(chunk: &ColumnChunkMetaData) -> Option<(f64, f64)> {
    let descr = chunk.column_descr();
    let decimal = matches!(descr.logical_type_ref(), Some(LogicalType::Decimal { .. }))
        || descr.converted_type() == ConvertedType::DECIMAL;
    let div = if decimal { 10f64.powi(descr.type_scale()) } else { 1.0 };
    let pair = |min: Option<f64>, max: Option<f64>| Some((min? / div, max? / div));
    match chunk.statistics()? {
        Statistics::Int32(s) => pair(s.min_opt().map(|&v| v as f64), s.max_opt().map(|&v| v as f64)),
        Statistics::Int64(s) => pair(s.min_opt().map(|&v| v as f64), s.max_opt().map(|&v| v as f64)),
        Statistics::Float(s) if !decimal => pair(s.min_opt().map(|&v| v as f64), s.max_opt().map(|&v| v as f64)),
        Statistics::Double(s) if !decimal => pair(s.min_opt().copied(), s.max_opt().copied()),
        Statistics::FixedLenByteArray(s) if decimal => {
            // Big-endian two's complement, at most 16 bytes.
            let int = |b: &[u8]| -> Option<f64> {
                if b.is_empty() || b.len() > 16 {
                    return None;
                }
                let fill = if b[0] & 0x80 != 0 { 0xff } else { 0 };
                let mut bytes = [fill; 16];
                bytes[16 - b.len()..].copy_from_slice(b);
                Some(i128::from_be_bytes(bytes) as f64)
            };
            pair(
                s.min_opt().and_then(|v| int(v.data())),
                s.max_opt().and_then(|v| int(v.data())),
            )
        }
        _ => None,
    }
    .filter(|(lo, hi)| !lo.is_nan() && !hi.is_nan())
}

/// Whether a row group's statistics show that no row satisfies every bound.
fn ruled_out(rg: &RowGroupMetaData, bounds: &[Bound]) -> bool {
    bounds.iter().any(|(column, op, v)| {
        let Some(chunk) = rg.columns().iter().find(|c| c.column_descr().name() == column) else {
            return false;
        };
        let Some((min, max)) = min_max(chunk) else { return false };
        match *op {
            "<" => min >= *v,
            "<=" => min > *v,
            ">" => max <= *v,
            ">=" => max < *v,
            "=" => *v < min || *v > max,
            _ => false,
        }
    })
}

/// The units to read, and how many Parquet row groups the bounds ruled out.
pub(crate) fn scan_units(format: &str, files: &[String], bounds: &[Bound]) -> Result<(Vec<ScanUnit>, usize), String> {
    let mut units = Vec::new();
    let mut pruned = 0;
    for f in files {
        if format != "parquet" {
            units.push(ScanUnit {
                file: f.clone(),
                row_group: None,
                rows: None,
            });
            continue;
        }
        let file = File::open(Path::new(f)).map_err(|e| format!("{f}: {e}"))?;
        let reader = SerializedFileReader::new(file).map_err(|e| format!("{f}: {e}"))?;
        for (i, rg) in reader.metadata().row_groups().iter().enumerate() {
            if ruled_out(rg, bounds) {
                pruned += 1;
                continue;
            }
            units.push(ScanUnit {
                file: f.clone(),
                row_group: Some(i),
                rows: Some(rg.num_rows() as u64),
            });
        }
    }
    Ok((units, pruned))
}

/// Splits units into `shards` contiguous runs of roughly equal rows (unit counts where
/// rows are unknown); every shard gets at least one unit (`units.len() >= shards`).
pub(crate) fn balance(units: &[ScanUnit], shards: usize) -> Vec<Vec<ScanUnit>> {
    let weight = |u: &ScanUnit| u.rows.unwrap_or(1).max(1);
    let total: u64 = units.iter().map(weight).sum();
    let boundary = |k: usize| (total as u128 * (k as u128 + 1) / shards as u128) as u64;
    let mut out: Vec<Vec<ScanUnit>> = vec![Vec::new(); shards];
    let (mut shard, mut acc) = (0, 0u64);
    for (i, u) in units.iter().enumerate() {
        let remaining_units = units.len() - i;
        if !out[shard].is_empty() && shard + 1 < shards && (acc >= boundary(shard) || remaining_units < shards - shard)
        {
            shard += 1;
        }
        out[shard].push(u.clone());
        acc += weight(u);
    }
    out
}

/// Checks a plan from outside (a saved file) against the files it names, before any task
/// runs: each file exists, and for Parquet its footer has every row group and column the
/// plan reads.
pub fn check_files(plan: &skadi_common::PhysicalPlan) -> Result<(), String> {
    for v in &plan.vertices {
        for op in v.op.flatten() {
            let skadi_common::Operator::Scan(scan) = op else {
                continue;
            };
            for slice in scan.shards.iter().flatten() {
                let path = slice.path.display();
                let file = File::open(&slice.path).map_err(|e| format!("vertex #{}: {path}: {e}", v.id))?;
                if scan.format != "parquet" {
                    continue;
                }
                let reader = SerializedFileReader::new(file).map_err(|e| format!("vertex #{}: {path}: {e}", v.id))?;
                let metadata = reader.metadata();
                let count = metadata.num_row_groups();
                if let Some(rg) = slice.row_groups.iter().flatten().find(|&&rg| rg >= count) {
                    return Err(format!(
                        "vertex #{}: {path} has {count} row groups; the plan reads row group {rg}",
                        v.id
                    ));
                }
                let fields = metadata.file_metadata().schema_descr().root_schema().get_fields();
                if let Some(c) = scan
                    .columns
                    .iter()
                    .find(|c| !fields.iter().any(|f| f.name() == c.as_str()))
                {
                    return Err(format!("vertex #{}: {path} has no column '{c}'", v.id));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(rows: &[u64]) -> Vec<ScanUnit> {
        rows.iter()
            .enumerate()
            .map(|(i, &r)| ScanUnit {
                file: format!("f{i}"),
                row_group: Some(0),
                rows: Some(r),
            })
            .collect()
    }

    #[test]
    fn every_shard_gets_units_and_rows_balance() {
        for (rows, shards) in [
            (vec![10, 10, 10, 10], 4),
            (vec![100, 1, 1, 1], 2),
            (vec![5; 7], 3),
            (vec![1, 1], 2),
        ] {
            let out = balance(&units(&rows), shards);
            assert!(out.iter().all(|s| !s.is_empty()), "{rows:?} into {shards}: {out:?}");
            assert_eq!(out.iter().map(Vec::len).sum::<usize>(), rows.len());
        }
        let out = balance(&units(&[5; 8]), 4);
        assert!(out.iter().all(|s| s.len() == 2));
    }
}
