//! DataFusion as a peer: the same catalog directory registered in a DataFusion session,
//! executed by DataFusion's own engine. Used as the oracle in tests and as the baseline in
//! `skadi bench`; never to run a Skadi plan.

use crate::Error;
use arrow::record_batch::RecordBatch;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionConfig, SessionContext};
use skadi_catalog::{Catalog, FileFormat};
use std::path::Path;

/// A DataFusion engine over a catalog, with `threads` threads and partitions.
pub struct DataFusionPeer {
    runtime: tokio::runtime::Runtime,
    ctx: SessionContext,
}

impl DataFusionPeer {
    pub fn open(catalog_dir: &Path, threads: usize) -> Result<Self, Error> {
        let threads = threads.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
            .map_err(|e| Error::Other(format!("cannot start DataFusion's runtime: {e}")))?;
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(threads));
        let catalog = Catalog::open(catalog_dir).map_err(|e| Error::Other(e.to_string()))?;
        let df = |e: datafusion::error::DataFusionError| Error::Other(format!("DataFusion: {e}"));
        runtime.block_on(async {
            for table in catalog.tables() {
                let path = table.path.to_string_lossy();
                match table.format {
                    FileFormat::Parquet => ctx
                        .register_parquet(&table.name, &path, ParquetReadOptions::default())
                        .await
                        .map_err(df)?,
                    FileFormat::Csv => ctx
                        .register_csv(&table.name, &path, CsvReadOptions::new())
                        .await
                        .map_err(df)?,
                }
            }
            Ok::<(), Error>(())
        })?;
        Ok(DataFusionPeer { runtime, ctx })
    }

    /// Plans one query down to DataFusion's physical plan, executing nothing.
    pub fn physical_plan(&self, sql: &str) -> Result<(), Error> {
        let df = |e: datafusion::error::DataFusionError| Error::Other(format!("DataFusion: {e}"));
        self.runtime.block_on(async {
            self.ctx
                .sql(sql)
                .await
                .map_err(df)?
                .create_physical_plan()
                .await
                .map_err(df)?;
            Ok(())
        })
    }

    /// DataFusion's optimized logical plan of one query, over this session's own tables:
    /// what an engine embedding Skadi hands it (`skadi::Session::compile_logical_plan`).
    pub fn logical_plan(&self, sql: &str) -> Result<datafusion::logical_expr::LogicalPlan, Error> {
        let df = |e: datafusion::error::DataFusionError| Error::Other(format!("DataFusion: {e}"));
        self.runtime
            .block_on(async { self.ctx.sql(sql).await.map_err(df)?.into_optimized_plan().map_err(df) })
    }

    /// Plans and executes one query with DataFusion.
    pub fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>, Error> {
        let df = |e: datafusion::error::DataFusionError| Error::Other(format!("DataFusion: {e}"));
        self.runtime
            .block_on(async { self.ctx.sql(sql).await.map_err(df)?.collect().await.map_err(df) })
    }
}
