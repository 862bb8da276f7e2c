//! Workloads to run Skadi on and compare it with: data generators (TPC-H tables and
//! queries, text corpora, web-server logs, ML tables) and DataFusion as a peer engine —
//! the oracle the tests compare answers with and the baseline the benchmarks time.
//!
//! These are tools around Skadi, not part of its library API: the `skadi` binary
//! (`skadi gen`, `skadi bench`) and the tests use them. Nothing here compiles or runs a
//! Skadi plan, and no Skadi plan ever runs on the peer.

pub mod corpus;
mod error;
pub mod peer;
pub mod tpch;

pub use error::Error;
