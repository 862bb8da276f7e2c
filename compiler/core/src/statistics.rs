//! Input size estimates from file metadata: the unit of scan parallelism is a Parquet
//! row group (or a whole CSV file).

use parquet::file::reader::{FileReader, SerializedFileReader};
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

pub(crate) fn scan_units(format: &str, files: &[String]) -> Result<Vec<ScanUnit>, String> {
    let mut units = Vec::new();
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
            units.push(ScanUnit {
                file: f.clone(),
                row_group: Some(i),
                rows: Some(rg.num_rows() as u64),
            });
        }
    }
    Ok(units)
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
