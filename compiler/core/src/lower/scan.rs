//! A source becomes a scan: its units (Parquet row groups, or whole files) that the
//! pruning bounds do not rule out, balanced by rows over at most `workers` shards.

use crate::statistics::{ScanUnit, balance, scan_units};
use skadi_common::{FileSlice, Scan, Source};

/// The scan of `source`, its estimated rows, and why it got its parallelism.
pub(super) fn lower(source: Source, workers: usize) -> Result<(Scan, f64, String), String> {
    let Source {
        table,
        format,
        files,
        columns,
        prune,
    } = source;
    let bounds: Vec<_> = prune.iter().filter_map(|b| skadi_flowgraph::parse_bound(b)).collect();
    let (units, pruned) = scan_units(&format, &files, &bounds)?;
    let unit_name = if format == "parquet" { "row groups" } else { "files" };
    let p = units.len().clamp(1, workers);
    let reason = format!(
        "{} {unit_name} in {} file(s){}{}",
        units.len(),
        files.len(),
        if pruned > 0 {
            format!(" ({pruned} more ruled out by statistics: {})", prune.join(", "))
        } else {
            String::new()
        },
        if units.len() > workers {
            format!(", capped by --workers {workers}")
        } else {
            String::new()
        }
    );
    let shards = if units.is_empty() {
        vec![Vec::new()]
    } else {
        balance(&units, p)
    };
    let rows = units.iter().map(|u| u.rows.unwrap_or(0) as f64).sum();
    let scan = Scan {
        table,
        format,
        columns,
        shards: shards.iter().map(|units| slices(units)).collect(),
    };
    Ok((scan, rows, reason))
}

/// A shard's units as file slices: consecutive row groups of one file together.
fn slices(units: &[ScanUnit]) -> Vec<FileSlice> {
    let mut out: Vec<FileSlice> = Vec::new();
    for u in units {
        match (out.last_mut(), u.row_group) {
            (Some(last), Some(rg)) if last.path.to_str() == Some(u.file.as_str()) => {
                last.row_groups.get_or_insert_with(Vec::new).push(rg);
            }
            _ => out.push(FileSlice {
                path: u.file.clone().into(),
                row_groups: u.row_group.map(|rg| vec![rg]),
            }),
        }
    }
    out
}
