//! `skadi gen`: test data — TPC-H tables, text corpora, access logs, ML tables — from
//! the workloads crate's generators, with progress.

use crate::{
    args::Gen,
    progress::{self, workload},
};
use skadi::Error;

pub(crate) fn run(g: Gen) -> Result<(), Error> {
    match g {
        Gen::Tpch { scale, out, files } => {
            let progress = progress::bar(
                skadi_workloads::tpch::TABLES.len() as u64,
                "{spinner} generating TPC-H [{bar:30}] {pos}/{len} {msg}",
            );
            skadi_workloads::tpch::generate(&out, scale, files, |table, rows| {
                progress.set_message(format!("{table}: {rows} rows"));
                progress.inc(1);
            })
            .map_err(workload)?;
            progress.finish_and_clear();
            eprintln!(
                "wrote TPC-H SF{scale} to {} ({} file(s) per large table)",
                out.display(),
                files.max(1)
            );
            Ok(())
        }
        Gen::Text(a) => {
            let spinner = progress::bar(1, "{spinner} writing text files {msg}");
            spinner.enable_steady_tick(std::time::Duration::from_millis(100));
            skadi_workloads::corpus::generate_text(&a.out, a.files, a.lines, a.seed).map_err(workload)?;
            spinner.finish_and_clear();
            eprintln!(
                "wrote {} text file(s) of {} lines to {}",
                a.files.max(1),
                a.lines,
                a.out.display()
            );
            Ok(())
        }
        Gen::Ml(a) => {
            let spinner = progress::bar(1, "{spinner} writing ML tables {msg}");
            spinner.enable_steady_tick(std::time::Duration::from_millis(100));
            skadi_workloads::corpus::generate_ml(&a.out, a.rows, a.features, a.clusters, a.seed).map_err(workload)?;
            spinner.finish_and_clear();
            let w: Vec<String> = skadi_workloads::corpus::true_coefficients(a.features)
                .iter()
                .map(|v| v.to_string())
                .collect();
            eprintln!(
                "wrote linear, logistic and blobs ({} rows each) to {}; y = [{}] · (1, x1..x{})",
                a.rows,
                a.out.display(),
                w.join(", "),
                a.features
            );
            Ok(())
        }
        Gen::Logs(a) => {
            let spinner = progress::bar(1, "{spinner} writing access logs {msg}");
            spinner.enable_steady_tick(std::time::Duration::from_millis(100));
            skadi_workloads::corpus::generate_logs(&a.out, a.files, a.lines, a.seed).map_err(workload)?;
            spinner.finish_and_clear();
            eprintln!(
                "wrote {} log file(s) of {} lines to {}",
                a.files.max(1),
                a.lines,
                a.out.display()
            );
            Ok(())
        }
    }
}
